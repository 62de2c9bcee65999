"""``/cleanup silent DURATION [dm] [CHAT_ID]`` and ``/cleanup segment NAME [dm] [CHAT_ID]``
(operators, in private or the team chat): a preview with Remove / Cancel buttons, bound to the
operator who asked. The community's administrators are asked of Telegram first: they, the bot
and the team are never counted. Non-operators never reach the command (the team router
refuses them, see handlers.team); a press by anyone but that operator does nothing."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message, Update

from bot.config import CommunityConfig
from bot.services import Services
from bot.services.moderation.cleanup import USAGE, read_args, read_press
from handlers.buttons import answer
from handlers.convert import origin, person, pressed_on
from handlers.filters import InTeamPlace, IsOperator

log = logging.getLogger(__name__)


def setup() -> Router:
    router = Router(name="cleanup")
    router.message.register(cleanup, Command("cleanup"), F.from_user, InTeamPlace(), IsOperator())
    is_cleanup = F.data.func(lambda d: read_press(d or "") is not None)
    router.callback_query.register(pressed, is_cleanup, IsOperator())
    router.callback_query.register(refused, is_cleanup)
    return router


async def cleanup(
    message: Message,
    command: CommandObject,
    services: Services,
    config: CommunityConfig,
    bot: Bot,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    args = read_args(command.args or "", config)
    if args is None:
        await services.team.answer_usage(where, who, USAGE, now)
        return
    try:
        admins = await bot.get_chat_administrators(args.chat_id)
    except TelegramAPIError as error:
        log.info("cleanup: administrators of %d unknown: %s", args.chat_id, error.message)
        await services.team.reply(where, who, "cleanup_no_admins", {}, now)
        return
    spared = frozenset({bot.id, *(a.user.id for a in admins)})
    await services.cleanup.preview(where, who, args, spared, now)


async def pressed(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    press = read_press(query.data or "")
    assert press is not None
    label = await services.cleanup.press(*press, person(query.from_user), pressed_on(query), now)
    return answer(query, services, label, alert=label != "cleanup_press_started")


async def refused(query: CallbackQuery, services: Services) -> AnswerCallbackQuery:
    return answer(query, services, "cleanup_press_invalid", alert=True)
