"""Team console: ``/audit``, ``/member``, ``/export`` (operators, in private or the team chat;
everyone else gets the team router's refusal)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InKnownChat, InTeamPlace, IsOperator


def setup() -> Router:
    router = Router(name="records")
    # cheap filters first: IsOperator may ask Telegram, and every community message passes here
    router.message.filter(
        F.from_user, F.text.startswith("/"), InKnownChat(), InTeamPlace(), IsOperator()
    )
    router.message.register(audit, Command("audit"))
    router.message.register(member, Command("member"))
    router.message.register(export, Command("export"))
    return router


async def audit(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.audit.answer(
        services.team, origin(message, event_update), person(message.from_user), command.args, now
    )


async def member(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.member_view.answer(
        services.team, origin(message, event_update), person(message.from_user), command.args, now
    )


async def export(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.exports.answer(
        services.team, origin(message, event_update), person(message.from_user), command.args, now
    )
