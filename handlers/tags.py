"""Operators tagging members (``/tag``) and sizing segments (``/segment``).

Non-operators never reach these (the team router refuses them, see handlers.team)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InTeamPlace, IsOperator

TAG_USAGE = "/tag @user|ID add|remove TAG"
SEGMENT_USAGE = "/segment [NAME]"


def setup() -> Router:
    router = Router(name="tags")
    router.message.filter(F.from_user, F.text.startswith("/"), InTeamPlace(), IsOperator())
    router.message.register(tag, Command("tag"))
    router.message.register(segment, Command("segment"))
    return router


async def tag(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split()
    if len(words) != 3 or words[1] not in ("add", "remove"):
        await services.team.answer_usage(where, who, TAG_USAGE, now)
        return
    template, context = await services.tag_admin.tag(words[0], words[1], words[2], who.id, now)
    await services.team.reply(where, who, template, context, now)


async def segment(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split()
    if len(words) > 1:
        await services.team.answer_usage(where, who, SEGMENT_USAGE, now)
        return
    template, context = await services.tag_admin.segment(words[0] if words else None, now)
    await services.team.reply(where, who, template, context, now)
