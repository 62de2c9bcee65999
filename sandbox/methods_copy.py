"""``copyMessage`` (a message sent again by the bot, without a link to the original) and the
user action of sending a photo, which broadcasts copy.

As Telegram: the answer is a ``MessageId``; a source message that does not exist is
``400 message to copy not found``; text and entities, or photo and caption, are kept (a
``caption`` parameter replaces the caption). The copy counts against the flood limits like
any message and is recorded in :attr:`World.sent <sandbox.world.World.sent>` (``method``
``copyMessage``, ``text`` the text or caption).
"""

from __future__ import annotations

import secrets
from typing import Any

from .errors import bad_request
from .methods_messages import _caption, _deliver
from .params import require
from .world import World

#: what a copy carries over from its source (service messages cannot be copied)
_COPIED = ("text", "entities", "photo", "caption", "caption_entities", "document", "sticker")


def copy_message(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``copyMessage``."""
    world.chat_for_bot_message(params.get("chat_id"))
    from_chat = world.chat(require(params, "from_chat_id", "chat_id is empty"))
    message_id = require(params, "message_id", "message identifier is not specified")
    source = world.message(from_chat["id"], message_id)
    if source is None:
        raise bad_request("message to copy not found")
    content = {key: source[key] for key in _COPIED if key in source}
    if not content or not any(key in content for key in ("text", "photo", "document", "sticker")):
        raise bad_request("message can't be copied")
    if "caption" in params and "text" not in content:
        _, caption = _caption(params)
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update({key: value for key, value in caption.items() if value is not None})
    raw = str(params.get("caption") or content.get("caption") or content.get("text") or "")
    message = _deliver(world, params, "copyMessage", raw, content)
    return {"message_id": message["message_id"]}


def user_sends_photo(
    sandbox: Any, user_id: int, caption: str = "", *, chat_id: int | None = None
) -> dict[str, Any]:
    """The user sends a photo (with ``caption``) to the bot, or to ``chat_id``; returns the
    update. ``sandbox`` is a :class:`~sandbox.TelegramSandbox`."""
    world: World = sandbox.world
    user = world.user(user_id)
    chat = sandbox._chat_of(user_id, chat_id)
    file_id = f"AgACAgIAAx{secrets.token_urlsafe(24)}"
    unique = secrets.token_hex(8)
    photo = [
        {"file_id": file_id, "file_unique_id": unique + "s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 800},
    ]
    message = world.new_message(chat, user, photo=photo, caption=caption or None)
    return world.updates.push("message", message)


HANDLERS = {"copyMessage": copy_message}
