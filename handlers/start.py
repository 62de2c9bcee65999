"""``/start [payload]`` in private: the member arrives by a deep link, claims the gift, or asks
for a keyword hook's material."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import person
from sop.payload import PayloadKind, parse_start_payload


def setup() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), F.chat.type == ChatType.PRIVATE, F.from_user)
    return router


async def start(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    payload, who = parse_start_payload(command.args), person(message.from_user)
    answered = await services.welcome.on_start(who, payload, event_update.update_id, now)
    if payload.kind is PayloadKind.HOOK and payload.hook:
        delivered = await services.hooks.on_start(payload.hook, who.id, now)
        if not delivered and not answered:  # a hook they never asked for: the plain answer
            await services.welcome.reply_start(who, payload, event_update.update_id, now)
    await services.sop_admin.remind_reserved(message.from_user.id, now)
