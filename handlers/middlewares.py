"""One session, one transaction, one ``Services`` per update; each update handled once.

A callback handler does not answer the press itself: it returns the answer
(``return query.answer(...)``, not awaited), and it is made here once the transaction has
committed. An answer that fails (the press is too old after a backlog, the network) costs only
the client's spinner, never what the press did."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.exceptions import AiogramError
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import TelegramObject, Update

from bot.db.repositories import UpdateRepository
from bot.runtime import Runtime, services_for
from bot.services.moderation.captcha import JOIN_PREFIX
from handlers.filters import OperatorDirectory

log = logging.getLogger(__name__)


class UpdateContextMiddleware(BaseMiddleware):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        runtime = self._runtime
        runtime.updates_in_flight += 1
        try:
            return await self._handle(handler, event, data)
        finally:
            runtime.updates_in_flight -= 1

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
    ) -> Any:
        runtime = self._runtime
        await _know_the_sender(event, data, runtime)  # network, before the transaction opens
        now = runtime.clock.now()
        async with runtime.db.transaction() as session:
            if not await UpdateRepository(session).claim(event.update_id, now):
                log.info("update %d was handled before; skipped", event.update_id)
                return None
            services = services_for(runtime, session)
            data["services"] = services
            data["config"] = services.config
            data["now"] = now
            result = await handler(event, data)
        runtime.after_commit(_is_join(event), _is_group_message(event))
        if isinstance(result, AnswerCallbackQuery):
            await _answer_press(data["bot"], result, event.update_id)
            return None
        return result


async def _answer_press(bot: Bot, answer: AnswerCallbackQuery, update_id: int) -> None:
    """Answers a button press after its effects committed; a failure is only logged."""
    try:
        await bot(answer)
    except (TimeoutError, AiogramError) as error:
        log.info(
            "update %d: the button press was not answered: %s: %s",
            update_id,
            type(error).__name__,
            getattr(error, "message", error),
        )


def _is_group_message(update: Update) -> bool:
    message = update.message
    return message is not None and message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _is_join(update: Update) -> bool:
    """A join, a join request, or a joiner's press on a group challenge (join protection: the
    greeting may follow now)."""
    if update.chat_member is not None or update.chat_join_request is not None:
        return True
    query = update.callback_query
    if query is not None and (query.data or "").startswith(JOIN_PREFIX):
        return True
    return update.message is not None and bool(update.message.new_chat_members)


async def _know_the_sender(update: Update, data: dict[str, Any], runtime: Runtime) -> None:
    """A command or a button press from someone not on the operator list may need Telegram's
    word on team chat membership, and a teammate's community message a fresh one once the last
    has expired: ask it now, so the filters inside the transaction find the answer cached and no
    database lock is held across a round trip."""
    operators: OperatorDirectory | None = data.get("operators")
    bot: Bot | None = data.get("bot")
    config = runtime.config.current
    if operators is None or bot is None or config.team.chat is None:
        return
    query = update.callback_query
    if query is not None:  # team buttons (broadcast cards) live in private and the team chat
        in_community = query.message is not None and config.is_community(query.message.chat.id)
        if query.from_user.id not in config.team.operators and not in_community:
            await operators.in_team_chat(bot, config.team.chat, query.from_user.id)
        return
    message = update.message
    if (
        message is None
        or message.from_user is None
        or message.from_user.is_bot
        or message.from_user.id in config.team.operators
        or message.chat.id == config.team.chat
    ):
        return
    if (message.text or "").startswith("/"):
        await operators.in_team_chat(bot, config.team.chat, message.from_user.id)
    elif config.is_community(message.chat.id):
        await operators.recheck(bot, config, message.from_user.id)
