"""Plain data the handlers hand to services (services know nothing of aiogram)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.models.outbox import ChatKind

__all__ = [
    "ChatKind",
    "GroupMessage",
    "MessageRef",
    "Origin",
    "Person",
    "chat_kind",
    "message_link",
]


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Origin:
    """Where a command or message came from, to answer it in the same place."""

    chat_id: int
    chat_kind: ChatKind
    message_id: int | None
    update_id: int


@dataclass(frozen=True)
class MessageRef:
    """A message in a chat (message ids are per chat: both are needed)."""

    chat_id: int
    message_id: int


@dataclass(frozen=True)
class GroupMessage:
    """A member's message in a community. Its text is looked at, never stored."""

    chat_id: int
    message_id: int
    person: Person
    text: str  # text or caption ("" for stickers and the like)
    replies_to_bot: bool = False
    reply_to_message_id: int | None = None
    from_operator: bool = False
    sent_at: datetime | None = None  # Telegram's time of the message


def chat_kind(telegram_chat_type: str) -> ChatKind:
    """Telegram's chat type (private, group, supergroup, channel) as the limits see it."""
    if telegram_chat_type == "private":
        return ChatKind.PRIVATE
    if telegram_chat_type == "channel":
        return ChatKind.CHANNEL
    return ChatKind.GROUP


def message_link(chat_id: int, message_id: int) -> str:
    """A t.me link to a supergroup message (members of the group can open it)."""
    internal = (
        str(chat_id).removeprefix("-100") if str(chat_id).startswith("-100") else str(abs(chat_id))
    )
    return f"https://t.me/c/{internal}/{message_id}"
