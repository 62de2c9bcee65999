"""Team commands: ``/kpi``, ``/help``. Operators get answers, everyone else a short refusal."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InKnownChat, InTeamPlace, IsOperator

TEAM_COMMANDS = ("kpi",)


def setup() -> Router:
    router = Router(name="team")
    router.message.filter(F.from_user, InKnownChat())
    router.message.register(kpi, Command("kpi"), IsOperator(), InTeamPlace())
    router.message.register(team_help, Command("help"), IsOperator(), InTeamPlace())
    # an operator asking in a community: the members there must not see the figures
    router.message.register(elsewhere, Command(*TEAM_COMMANDS), IsOperator())
    router.message.register(refuse, Command(*TEAM_COMMANDS))
    return router


async def kpi(message: Message, command: CommandObject, services: Services, now: datetime,
              event_update: Update) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    if command.args:
        await services.team.answer_usage(where, who, "/kpi", now)
        return
    await services.team.answer_kpi(where, who, now)


async def team_help(message: Message, services: Services, now: datetime,
                    event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.answer_help(origin(message, event_update), person(message.from_user), now)


async def refuse(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.refuse(origin(message, event_update), person(message.from_user), now)


async def elsewhere(message: Message, services: Services, now: datetime,
                    event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.answer_elsewhere(origin(message, event_update), person(message.from_user),
                                         now)
