"""``/kpi`` (operators, in private or the team chat): the day's or a period's figures, or the
chart; non-operators never reach it (the team router refuses them, see handlers.team)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InKnownChat, InTeamPlace, IsOperator


def setup() -> Router:
    router = Router(name="kpi")
    router.message.filter(F.from_user, InKnownChat())
    router.message.register(kpi, Command("kpi"), IsOperator(), InTeamPlace())
    return router


async def kpi(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.kpi_console.answer(
        origin(message, event_update), person(message.from_user), command.args, now
    )
