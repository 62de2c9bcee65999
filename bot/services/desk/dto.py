"""Plain data the desk's handlers hand to it (nothing of aiogram)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.dto import Person

#: what a member may send the desk (anything else is not a conversation message)
MEDIA_KINDS = frozenset(
    {"text", "photo", "video", "voice", "audio", "document", "sticker", "animation", "video_note"}
)


@dataclass(frozen=True)
class MemberMessage:
    """A member's private message to the bot. Its text is looked at, never stored."""

    person: Person
    message_id: int
    kind: str
    text: str  # text or caption ("" for stickers, voice…)
    sent_at: datetime


@dataclass(frozen=True)
class TeamMessage:
    """A message in the team chat that may answer a member."""

    chat_id: int
    message_id: int
    person: Person
    #: the message it replies to, when that is the bot's
    reply_to_bot_message: int | None
    #: the forum topic it was sent in (``None`` outside topics)
    thread_id: int | None
    #: an internal note (starts with ``!``): never sent to a member
    is_note: bool
    update_id: int
    #: ``#N`` at the start of the text or caption: conversation N (a reply to a digest)
    hint: int | None = None
    #: the text or caption after ``#N`` (what a reply to a digest sends)
    rest: str = ""
    #: a text message (else media: copied with ``rest`` as its caption)
    is_text: bool = True
