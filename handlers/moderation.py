"""Community order: every community message (new or edited) through moderation and the
complaint watch, members' ``/report`` and ``/rules``, operators' reply commands and the alert
buttons. A message that is not being deleted goes on to the other routers (``SkipHandler``):
commands, hooks, the first-response clock and activity counting see it as before.

Group administrators count as moderators: :class:`ChatAdmins` keeps each community's list
(``getChatAdministrators``), asked before the update's transaction opens
(:class:`ModerationPrefetch`, an outer middleware ahead of the transaction's)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import (
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    TelegramObject,
    Update,
)

from bot.config import CommunityConfig
from bot.runtime import ConfigHolder
from bot.services import Services
from bot.services.dto import Person
from bot.services.moderation import MODERATION_COMMANDS
from bot.services.moderation.complaints import read_press
from bot.services.moderation.console import Target
from bot.services.moderation.dto import CheckedMessage
from bot.services.moderation.service import NEEDED_RIGHTS
from handlers.convert import origin, person
from handlers.filters import InCommunity, InTeamPlace, IsOperator, OperatorDirectory
from sop.moderation import MessageFacts

log = logging.getLogger(__name__)

#: how long a community's administrator list is believed (seconds)
ADMINS_TTL = 600.0
LINK_ENTITIES = {"url", "text_link"}
REPLY_COMMANDS = tuple(c for c in MODERATION_COMMANDS if c not in ("modlog", "cleanup"))


class ChatAdmins:
    """Each community's administrators, as ``getChatAdministrators`` last said (refreshed
    after ``ttl`` seconds, or when a ``chat_member`` update changes someone's admin status)."""

    def __init__(self, ttl: float = ADMINS_TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._known: dict[int, tuple[frozenset[int], float]] = {}

    def is_admin(self, chat_id: int, user_id: int) -> bool:
        known = self._known.get(chat_id)
        return known is not None and user_id in known[0]

    def forget(self, chat_id: int) -> None:
        self._known.pop(chat_id, None)

    async def refresh(self, bot: Bot, chat_id: int) -> None:
        known = self._known.get(chat_id)
        if known is not None and self._clock() - known[1] < self._ttl:
            return
        try:
            admins = await bot.get_chat_administrators(chat_id)
        except TelegramAPIError as error:
            log.info("administrators of %d unknown: %s", chat_id, error.message)
            ids = known[0] if known is not None else frozenset()
        else:
            ids = frozenset(a.user.id for a in admins)
        self._known[chat_id] = (ids, self._clock())


class ModerationPrefetch(BaseMiddleware):
    """Before the transaction: a watched community's administrator list is fresh."""

    def __init__(self, config: ConfigHolder, admins: ChatAdmins) -> None:
        self._config = config
        self._admins = admins

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        config = self._config.current
        bot: Bot | None = data.get("bot")
        if isinstance(event, Update) and bot is not None and config.watches_messages:
            message = event.message or event.edited_message
            if message is not None and config.is_community(message.chat.id):
                await self._admins.refresh(bot, message.chat.id)
            changed = event.chat_member
            if changed is not None and "administrator" in (
                changed.old_chat_member.status,
                changed.new_chat_member.status,
            ):
                self._admins.forget(changed.chat.id)
        return await handler(event, data)


def setup() -> Router:
    router = Router(name="moderation")
    router.callback_query.register(alert_pressed, F.data.func(lambda d: read_press(d or "")))
    community = router.message
    community.register(
        reply_command, Command(*REPLY_COMMANDS), InCommunity(), F.from_user, IsOperator()
    )
    community.register(modlog, Command("modlog"), F.from_user, InTeamPlace(), IsOperator())
    community.register(report, Command("report"), InCommunity(), F.from_user)
    community.register(rules, Command("rules"), F.from_user)
    community.register(check_message, InCommunity())
    router.edited_message.register(check_edit, InCommunity())
    router.my_chat_member.register(bot_rights_changed, InCommunity())
    return router


def _rights(member: ChatMember | Any) -> dict[str, bool]:
    status = getattr(member, "status", "")
    if status == "creator":
        return {right: True for right in NEEDED_RIGHTS}
    if status != "administrator":
        return {}
    return {right: bool(getattr(member, right, False)) for right in NEEDED_RIGHTS}


async def bot_rights_changed(
    event: ChatMemberUpdated, services: Services, now: datetime, event_update: Update
) -> None:
    """The bot removed from a community, or a right it needs taken away: the team is told
    what stops working; then on to the other routers (the log line)."""
    await services.bot_rights.changed(
        event.chat.id,
        event.new_chat_member.status,
        _rights(event.new_chat_member),
        _rights(event.old_chat_member),
        event_update.update_id,
        now,
    )
    raise SkipHandler()


def _facts(message: Message) -> MessageFacts:
    entities: list[MessageEntity] = [*(message.entities or []), *(message.caption_entities or [])]
    origin_type = getattr(message.forward_origin, "type", None)
    return MessageFacts(
        link_entity=any(e.type in LINK_ENTITIES for e in entities),
        forwarded_from_chat=origin_type in ("channel", "chat"),
        sticker=message.sticker is not None or message.animation is not None,
    )


def _checked(
    message: Message,
    config: CommunityConfig,
    operators: OperatorDirectory,
    admins: ChatAdmins | None,
    *,
    edited: bool,
) -> CheckedMessage | None:
    """The message as moderation sees it; ``None`` for what is never touched: the group's
    anonymous admins, the linked channel's automatic forwards, service messages, the bot."""
    if message.is_automatic_forward:
        return None
    sender_chat = message.sender_chat
    if sender_chat is not None:
        if sender_chat.id == message.chat.id:
            return None  # an anonymous administrator
        who = Person(id=sender_chat.id, first_name=sender_chat.title or "")
        moderator = False
    elif message.from_user is not None and not message.from_user.is_bot:
        who = person(message.from_user)
        uid = message.from_user.id
        moderator = operators.is_known_operator(config, uid) or (
            admins is not None and admins.is_admin(message.chat.id, uid)
        )
    else:
        return None
    return CheckedMessage(
        chat_id=message.chat.id,
        message_id=message.message_id,
        person=who,
        text=message.text or message.caption or "",
        facts=_facts(message),
        from_moderator=moderator,
        as_channel=sender_chat is not None,
        edited=edited,
        sent_at=message.date,
    )


async def check_message(
    message: Message,
    services: Services,
    config: CommunityConfig,
    operators: OperatorDirectory,
    now: datetime,
    admins: ChatAdmins | None = None,
) -> None:
    """Deleted, or on to the other routers."""
    if config.watches_messages:
        checked = _checked(message, config, operators, admins, edited=False)
        if checked is not None:
            if await services.moderation.check(checked, now):
                return
            if not checked.from_moderator:
                await services.complaints.on_message(
                    checked.chat_id, checked.message_id, checked.person, checked.text, now
                )
    raise SkipHandler()


async def check_edit(
    message: Message,
    services: Services,
    config: CommunityConfig,
    operators: OperatorDirectory,
    now: datetime,
    admins: ChatAdmins | None = None,
) -> None:
    """An edit can turn a message into spam (or a complaint)."""
    if not config.watches_messages:
        return
    checked = _checked(message, config, operators, admins, edited=True)
    if checked is None or await services.moderation.check(checked, now):
        return
    if not checked.from_moderator:
        await services.complaints.on_message(
            checked.chat_id, checked.message_id, checked.person, checked.text, now
        )


def _target(
    message: Message,
    config: CommunityConfig,
    operators: OperatorDirectory,
    admins: ChatAdmins | None,
    bot: Bot,
) -> Target | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    if reply.from_user is None or reply.sender_chat is not None:
        return Target(
            message.chat.id,
            reply.message_id,
            Person(id=reply.sender_chat.id if reply.sender_chat else 0, first_name="?"),
            protected=True,
        )
    uid = reply.from_user.id
    protected = (
        uid == bot.id
        or reply.from_user.is_bot
        or operators.is_known_operator(config, uid)
        or (admins is not None and admins.is_admin(message.chat.id, uid))
    )
    return Target(message.chat.id, reply.message_id, person(reply.from_user), protected)


async def reply_command(
    message: Message,
    command: CommandObject,
    services: Services,
    config: CommunityConfig,
    operators: OperatorDirectory,
    bot: Bot,
    now: datetime,
    event_update: Update,
    admins: ChatAdmins | None = None,
) -> None:
    assert message.from_user is not None
    name = command.command.lower()
    target = _target(message, config, operators, admins, bot)
    if name == "del" and target is not None and target.protected:
        target = Target(target.chat_id, target.message_id, target.person)  # any message may go
    await services.moderation_console.command(
        name,
        command.args or "",
        origin(message, event_update),
        person(message.from_user),
        target,
        now,
    )


async def modlog(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.moderation_console.modlog(
        origin(message, event_update), person(message.from_user), command.args or "", now
    )


async def report(message: Message, services: Services, now: datetime) -> None:
    """A member reports the message they reply to: the team is told, once per message."""
    assert message.from_user is not None
    reply = message.reply_to_message
    if reply is None:
        return
    await services.complaints.report(
        message.chat.id, reply.message_id, person(message.from_user), now
    )


async def rules(
    message: Message,
    command: CommandObject,
    services: Services,
    config: CommunityConfig,
    bot: Bot,
    operators: OperatorDirectory,
    now: datetime,
    event_update: Update,
) -> None:
    """``/rules`` for anyone; ``/rules post`` from an operator in a community posts and pins
    them."""
    assert message.from_user is not None
    where = origin(message, event_update)
    if (
        (command.args or "").strip().lower() == "post"
        and config.is_community(message.chat.id)
        and await operators.is_operator(bot, config, message.from_user.id, message.chat.id)
    ):
        await services.rules.post(where, now)
        return
    if message.chat.type == "private" or config.is_community(message.chat.id):
        await services.rules.answer(where, person(message.from_user), now)


async def alert_pressed(
    query: CallbackQuery,
    services: Services,
    config: CommunityConfig,
    bot: Bot,
    operators: OperatorDirectory,
    now: datetime,
) -> AnswerCallbackQuery:
    """Claim or resolve: only operators (the press itself proves nothing)."""
    press = read_press(query.data or "")
    assert press is not None
    label = services.messenger.label
    locale = config.default_locale
    if not await operators.is_operator(bot, config, query.from_user.id, None):
        return query.answer(label("mod_team_only", locale, fallback="⛔"), show_alert=True)
    outcome = await services.complaints.press(press[1], press[0], person(query.from_user), now)
    return query.answer(label(f"mod_press_{outcome}", locale, fallback=outcome)[:200])
