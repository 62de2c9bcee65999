"""Plain data the handlers hand to services (services know nothing of aiogram)."""

from __future__ import annotations

from dataclasses import dataclass


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
    chat_kind: str          # "private", "group" (groups and supergroups) or "channel"
    message_id: int | None
    update_id: int


def chat_kind(telegram_chat_type: str) -> str:
    if telegram_chat_type == "private":
        return "private"
    if telegram_chat_type == "channel":
        return "channel"
    return "group"
