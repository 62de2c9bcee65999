"""Member messages in the communities: counted (per member, per day), never stored."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ContentType
from aiogram.types import Message

from bot.services import Services
from handlers.convert import person
from handlers.filters import InCommunity

#: what a member posts; service messages (pins, title changes, joins) are not activity
MEMBER_CONTENT = {
    ContentType.TEXT, ContentType.PHOTO, ContentType.STICKER, ContentType.VIDEO,
    ContentType.VOICE, ContentType.AUDIO, ContentType.DOCUMENT, ContentType.ANIMATION,
    ContentType.VIDEO_NOTE, ContentType.LOCATION, ContentType.CONTACT, ContentType.POLL,
    ContentType.DICE, ContentType.STORY,
}


def setup() -> Router:
    router = Router(name="activity")
    router.message.register(count_message, InCommunity(), F.from_user.is_bot.is_(False),
                            F.content_type.in_(MEMBER_CONTENT))
    return router


async def count_message(message: Message, services: Services, now: datetime) -> None:
    assert message.from_user is not None
    await services.ledger.record_message(message.chat.id, person(message.from_user), now)
