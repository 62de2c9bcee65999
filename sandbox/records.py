"""What the sandbox records: every API call and every message the bot sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One HTTP call to the Bot API, successful or not."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool
    error_code: int | None = None
    description: str | None = None
    #: the first path segment of the client's base URL (``http://host:port/<via>``), if any
    via: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent (``sendMessage``/``sendPhoto``/``sendDocument``).

    ``text`` is the raw text (or caption) exactly as the bot sent it, markup included;
    ``parse_mode`` tells how Telegram read it. ``reply_markup`` is the decoded JSON or ``None``.
    """

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    at: float
    method: str
    #: ``(chat_id, message_id)`` of the original, for ``copyMessage``
    copied_from: tuple[int, int] | None = None
    #: the forum topic it went to
    thread_id: int | None = None

    def button(self, row: int = 0, column: int = 0) -> dict[str, Any]:
        """The inline keyboard button at ``row``, ``column``; ``LookupError`` without one."""
        keyboard = (self.reply_markup or {}).get("inline_keyboard") or []
        try:
            found: dict[str, Any] = keyboard[row][column]
        except IndexError:
            raise LookupError(
                f"message {self.message_id} in chat {self.chat_id} has no inline button "
                f"[{row}][{column}] (reply_markup {self.reply_markup!r})"
            ) from None
        return found


@dataclass(frozen=True)
class SentFile:
    """A file the bot sent (``sendDocument``/``sendPhoto``): the uploaded bytes and name, or
    ``None`` for both when it passed a ``file_id`` or a URL."""

    chat_id: int
    message_id: int
    kind: str
    file_id: str
    filename: str | None
    data: bytes | None
    caption: str
    at: float
