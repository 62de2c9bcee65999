"""The suppression list's keyed hash: HMAC-SHA-256 of a member's id under the privacy key
(``PRIVACY_KEY``, else derived from ``BOT_TOKEN``; docs/security.md)."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def privacy_key(explicit: str | None, bot_token: str | None) -> bytes:
    """``PRIVACY_KEY`` when set; else HMAC-SHA-256(key="sopbot-privacy", message=BOT_TOKEN)."""
    if explicit:
        return explicit.encode()
    return hmac.new(b"sopbot-privacy", (bot_token or "").encode(), hashlib.sha256).digest()


def privacy_key_of(settings: Settings) -> bytes:
    """:func:`privacy_key` of the settings' ``PRIVACY_KEY`` and ``BOT_TOKEN``."""
    return privacy_key(
        settings.privacy_key.get_secret_value() if settings.privacy_key else None,
        settings.bot_token.get_secret_value() if settings.bot_token else None,
    )


def digest(key: bytes, user_id: int) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
