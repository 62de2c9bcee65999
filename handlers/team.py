"""Team commands: ``/kpi``, ``/help``. Operators get answers, everyone else a short refusal."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import IsOperator

TEAM_COMMANDS = ("kpi",)


def setup() -> Router:
    router = Router(name="team")
    router.message.filter(F.from_user)
    router.message.register(kpi, Command("kpi"), IsOperator())
    router.message.register(team_help, Command("help"), IsOperator())
    router.message.register(refuse, Command(*TEAM_COMMANDS))
    return router


async def kpi(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.answer_kpi(origin(message, event_update), person(message.from_user), now)


async def team_help(message: Message, services: Services, now: datetime,
                    event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.answer_help(origin(message, event_update), person(message.from_user), now)


async def refuse(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.refuse(origin(message, event_update), person(message.from_user), now)
