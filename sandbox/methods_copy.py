"""``copyMessage`` (a message sent again by the bot, without a link to the original) and the
user actions of sending media (photo, video, voice, audio, document, sticker, animation, video
note), which broadcasts and the service desk copy.

As Telegram: the answer is a ``MessageId``; a source message that does not exist (never sent, or
deleted since) is ``400 message to copy not found``; service messages, paid media, giveaways
and invoices are ``400 message can't be copied``; text and entities, or the media and its
caption, are kept (a ``caption`` parameter replaces the caption of media). The copy counts
against the flood limits like any message, may go into a forum topic (``message_thread_id``),
and is recorded in :attr:`World.sent <sandbox.world.World.sent>` (``method`` ``copyMessage``,
``text`` the text or caption).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from .errors import bad_request
from .methods_messages import _caption, _deliver
from .params import require
from .world import World

#: what a copy carries over from its source (service messages cannot be copied)
MEDIA = ("photo", "video", "voice", "audio", "document", "sticker", "animation", "video_note")
_CONTENT = ("text", *MEDIA, "location", "contact", "dice", "poll")
_COPIED = (*_CONTENT, "entities", "caption", "caption_entities")
#: what Telegram refuses to copy (besides service messages)
_UNCOPYABLE = ("paid_media", "giveaway", "giveaway_winners", "invoice")


def copy_message(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``copyMessage``."""
    world.chat_for_bot_message(params.get("chat_id"))
    from_chat = world.chat(require(params, "from_chat_id", "chat_id is empty"))
    message_id = require(params, "message_id", "message identifier is not specified")
    source = world.message(from_chat["id"], message_id)
    if source is None:
        raise bad_request("message to copy not found")
    content = {key: source[key] for key in _COPIED if key in source}
    if any(key in source for key in _UNCOPYABLE) or not any(key in content for key in _CONTENT):
        raise bad_request("message can't be copied")
    if "caption" in params and "text" not in content and "sticker" not in content:
        _, caption = _caption(params)
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update({key: value for key, value in caption.items() if value is not None})
    raw = str(params.get("caption") or content.get("caption") or content.get("text") or "")
    message = _deliver(world, params, "copyMessage", raw, content)
    sent = replace(world.sent[-1], copied_from=(from_chat["id"], int(message_id)))
    world.sent[-1] = sent
    world.bot_messages[(sent.chat_id, sent.message_id)] = sent
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


def _file(prefix: str) -> dict[str, Any]:
    return {
        "file_id": f"{prefix}{secrets.token_urlsafe(24)}",
        "file_unique_id": secrets.token_hex(8),
    }


def media_object(kind: str) -> Any:
    """What a message of ``kind`` carries, shaped like Telegram's objects."""
    if kind == "photo":
        base = _file("AgACAgIAAx")
        return [
            {**base, "file_unique_id": base["file_unique_id"] + "s", "width": 90, "height": 90},
            {**base, "width": 800, "height": 800},
        ]
    shapes: dict[str, dict[str, Any]] = {
        "video": {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"},
        "voice": {"duration": 3, "mime_type": "audio/ogg"},
        "audio": {"duration": 30, "mime_type": "audio/mpeg", "title": "Track"},
        "document": {"file_name": "file.pdf", "mime_type": "application/pdf"},
        "animation": {"width": 320, "height": 240, "duration": 2},
        "video_note": {"length": 240, "duration": 4},
        "sticker": {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        },
    }
    if kind not in shapes:
        raise ValueError(f"sandbox: unknown media kind {kind!r}; one of {', '.join(MEDIA)}")
    return {**_file("BQACAgIAAx"), **shapes[kind]}


def user_sends_media(
    sandbox: Any,
    user_id: int,
    kind: str,
    caption: str = "",
    *,
    chat_id: int | None = None,
    reply_to_message_id: int | None = None,
    message_thread_id: int | None = None,
) -> dict[str, Any]:
    """The user sends a ``kind`` of media (with ``caption``, where Telegram allows one) to the
    bot, or to ``chat_id`` (in a forum topic with ``message_thread_id``); returns the update."""
    world: World = sandbox.world
    user = world.user(user_id)
    chat = sandbox._chat_of(user_id, chat_id)
    reply, thread = sandbox._reply_and_thread(chat, reply_to_message_id, message_thread_id)
    fields: dict[str, Any] = {kind: media_object(kind)}
    if caption and kind not in ("sticker", "video_note"):
        fields["caption"] = caption
    message = world.new_message(
        chat,
        user,
        reply_to_message=reply,
        message_thread_id=thread,
        is_topic_message=True if thread is not None else None,
        **fields,
    )
    return world.updates.push("message", message)


HANDLERS = {"copyMessage": copy_message}
