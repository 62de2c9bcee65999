"""``/start [payload]`` in private: the member arrives by a deep link, claims the gift, or asks
for a keyword hook's material."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import person
from sop.payload import PayloadKind, parse_start_payload


def setup() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), F.chat.type == "private", F.from_user)
    return router


async def start(message: Message, command: CommandObject, services: Services, now: datetime,
                event_update: Update) -> None:
    assert message.from_user is not None
    payload = parse_start_payload(command.args)
    await services.welcome.on_start(person(message.from_user), payload, event_update.update_id,
                                    now)
    if payload.kind is PayloadKind.HOOK and payload.hook:
        await services.hooks.on_start(payload.hook, message.from_user.id, now)
    await services.sop_admin.remind_reserved(message.from_user.id, now)
