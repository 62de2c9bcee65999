"""The suppression list's keyed hash: HMAC-SHA-256 of a member's id under the privacy key
(``PRIVACY_KEY``, else derived from ``BOT_TOKEN``; docs/security.md)."""

from __future__ import annotations

import hashlib
import hmac


def privacy_key(explicit: str | None, bot_token: str | None) -> bytes:
    """``PRIVACY_KEY`` when set; else HMAC-SHA-256(key="sopbot-privacy", message=BOT_TOKEN)."""
    if explicit:
        return explicit.encode()
    return hmac.new(b"sopbot-privacy", (bot_token or "").encode(), hashlib.sha256).digest()


def digest(key: bytes, user_id: int) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
