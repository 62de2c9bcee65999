"""Member messages in the communities: counted (never stored), checked for hook keywords and
questions; an operator's message answers the questions waiting there."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ContentType
from aiogram.types import Message

from bot.config import CommunityConfig
from bot.services import Services
from bot.services.dto import GroupMessage, Person
from handlers.convert import person
from handlers.filters import InCommunity, OperatorDirectory

#: what a member posts; service messages (pins, title changes, joins) are not activity
MEMBER_CONTENT = {
    ContentType.TEXT,
    ContentType.PHOTO,
    ContentType.STICKER,
    ContentType.VIDEO,
    ContentType.VOICE,
    ContentType.AUDIO,
    ContentType.DOCUMENT,
    ContentType.ANIMATION,
    ContentType.VIDEO_NOTE,
    ContentType.LOCATION,
    ContentType.CONTACT,
    ContentType.POLL,
    ContentType.DICE,
    ContentType.STORY,
}


def setup() -> Router:
    router = Router(name="activity")
    router.message.register(
        count_message,
        InCommunity(),
        F.from_user.is_bot.is_(False),
        F.content_type.in_(MEMBER_CONTENT),
    )
    # an anonymous admin posts as the group itself
    router.message.register(
        admin_message, InCommunity(), F.sender_chat, F.func(lambda m: m.sender_chat.id == m.chat.id)
    )
    return router


async def count_message(
    message: Message,
    services: Services,
    now: datetime,
    bot: Bot,
    config: CommunityConfig,
    operators: OperatorDirectory,
) -> None:
    assert message.from_user is not None
    reply = message.reply_to_message
    await services.community.on_message(
        GroupMessage(
            chat_id=message.chat.id,
            message_id=message.message_id,
            person=person(message.from_user),
            text=message.text or message.caption or "",
            replies_to_bot=bool(reply and reply.from_user and reply.from_user.id == bot.id),
            reply_to_message_id=reply.message_id if reply else None,
            from_operator=operators.is_known_operator(config, message.from_user.id),
            sent_at=message.date,
        ),
        now,
    )


async def admin_message(message: Message, services: Services, now: datetime) -> None:
    reply = message.reply_to_message
    await services.community.on_admin_message(
        GroupMessage(
            chat_id=message.chat.id,
            message_id=message.message_id,
            person=Person(id=message.chat.id, first_name=message.chat.title or ""),
            text=message.text or message.caption or "",
            reply_to_message_id=reply.message_id if reply else None,
            sent_at=message.date,
        ),
        now,
    )
