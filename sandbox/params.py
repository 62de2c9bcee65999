"""Bot API parameters, however they arrive, normalized to Python values.

Telegram takes parameters as a query string, ``application/x-www-form-urlencoded``,
``multipart/form-data`` (aiogram's way: every value is a string, complex ones JSON-encoded,
files as ``attach://<field>`` plus a file part) or a JSON body. :func:`normalize` turns them all
into one dict: numbers as ``int``, flags as ``bool``, JSON fields decoded, uploads as
:class:`~sandbox.methods_files.Upload` (``{"upload": filename, "size": bytes}`` with the bytes).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "media",
        "message_ids",
        "permissions",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "user_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "message_thread_id",
        "member_limit",
        "expire_date",
        "cache_time",
        "max_connections",
        "from_chat_id",
        "until_date",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "creates_join_request",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "revoke_messages",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "only_if_banned",
        "use_independent_chat_permissions",
    }
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
}


def _to_int(name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        if name == "chat_id" and text.startswith("@"):
            return text
        raise bad_request(f"invalid {name} specified")
    return value


def _to_bool(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value


def _to_json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name} JSON object")) from None


def normalize(raw: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Typed parameters from raw string/JSON values; ``files`` maps multipart field -> upload."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in files:
            continue  # a file part: referenced through attach://
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified: {value}")
            params[name] = upload
        elif name in JSON_FIELDS:
            params[name] = _to_json(name, value)
        elif name in INT_FIELDS:
            params[name] = _to_int(name, value)
        elif name in BOOL_FIELDS:
            params[name] = _to_bool(value)
        else:
            params[name] = value
    for name, upload in files.items():
        if name not in params and not any(v is upload for v in params.values()):
            params[name] = upload  # uploaded directly under the parameter's own name
    return params


def require(params: dict[str, Any], name: str, detail: str | None = None) -> Any:
    """A required parameter, or Telegram's ``400 <name> is empty``."""
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(detail or f"{name} is empty")
    return value


def optional_int(params: dict[str, Any], name: str) -> int | None:
    """An integer parameter that may be absent."""
    value = params.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
