"""``/start [payload]`` in private: the member arrives by a deep link, or claims the gift."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import person
from sop.payload import parse_start_payload


def setup() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), F.chat.type == "private", F.from_user)
    return router


async def start(message: Message, command: CommandObject, services: Services, now: datetime,
                event_update: Update) -> None:
    assert message.from_user is not None
    await services.welcome.on_start(person(message.from_user), parse_start_payload(command.args),
                                    event_update.update_id, now)
