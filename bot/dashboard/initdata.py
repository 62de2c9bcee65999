"""The Mini App's init data (``tgWebAppData``), checked as Telegram says.

The secret is HMAC-SHA-256 of the bot token under the key ``"WebAppData"``; the hash is the hex
HMAC-SHA-256 of the data-check string (every field but ``hash``, as ``key=value``, sorted by
key, joined with ``"\\n"``) under that secret. ``auth_date`` must be under 24 hours old.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

#: how old init data may be
MAX_AGE = timedelta(hours=24)
#: init data is a few hundred bytes; anything much longer is not Telegram's
MAX_LENGTH = 8192


class InitDataError(Exception):
    """Why init data was refused (said in the log, never to the page)."""


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    username: str | None
    language_code: str | None


@dataclass(frozen=True)
class InitData:
    user: WebAppUser
    auth_date: datetime
    #: the hash Telegram signed it with (the CSRF token of an init data sign-in is made from it)
    hash: str


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """Init data as Telegram makes it (tests, the bench): ``fields`` with their ``hash``."""
    digest = hmac.new(
        _secret(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify(raw: str, bot_token: str, now: datetime) -> InitData:
    """The user of ``raw`` init data; :class:`InitDataError` when it is forged, stale or bad."""
    if not raw or len(raw) > MAX_LENGTH:
        raise InitDataError("no init data, or too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise InitDataError(f"not a query string: {error}") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field given twice")
    given = fields.get("hash", "")
    expected = hmac.new(
        _secret(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise InitDataError("hash does not match")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
    except (KeyError, ValueError, OverflowError, OSError):
        raise InitDataError("no auth_date") from None
    if not timedelta(minutes=-5) < now - auth_date < MAX_AGE:
        raise InitDataError(f"auth_date {auth_date.isoformat()} is not within 24 hours")
    try:
        user = json.loads(fields["user"])
        person = WebAppUser(
            id=int(user["id"]),
            first_name=str(user.get("first_name") or ""),
            username=str(user["username"]) if user.get("username") else None,
            language_code=str(user["language_code"]) if user.get("language_code") else None,
        )
    except (KeyError, ValueError, TypeError):
        raise InitDataError("no user in init data") from None
    return InitData(person, auth_date, given.lower())
