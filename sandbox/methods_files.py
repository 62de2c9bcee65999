"""Bot API methods that send files: ``sendDocument`` and ``sendPhoto``.

A file arrives as a multipart upload (``attach://<field>`` or a part named after the
parameter), a ``file_id`` or an HTTP URL. Uploads are held to Telegram's limits for bots
(50 MB for a document, 10 MB for a photo, never empty; a photo must be an image) and kept, bytes
and name, in :attr:`World.files <sandbox.world.World.files>` so tests can read what the bot
sent. The answer is a ``Message`` with a ``document`` or a ``photo`` (sizes) as Telegram's.
"""

from __future__ import annotations

import mimetypes
import secrets
import struct
from typing import Any

from .errors import ApiError, bad_request
from .methods_messages import _caption, _deliver
from .params import require
from .records import SentFile
from .world import World

#: Telegram's limits for files a bot uploads (https://core.telegram.org/bots/api#sending-files)
MAX_DOCUMENT = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


class Upload(dict[str, Any]):
    """One uploaded file part: compares and prints as ``{"upload": name, "size": n}`` (the
    call log never carries the bytes), the bytes and content type ride along as attributes."""

    def __init__(self, filename: str | None, data: bytes, content_type: str | None) -> None:
        super().__init__(upload=filename, size=len(data))
        self.filename = filename
        self.data = data
        self.content_type = content_type


def _file_id(kind: str) -> str:
    prefix = "AgACAgIAAx" if kind == "photo" else "BQACAgIAAx"
    return f"{prefix}{secrets.token_urlsafe(24)}"


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _check_upload(upload: Upload, limit: int) -> None:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if len(upload.data) > limit:
        if limit == MAX_PHOTO:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        raise ApiError(413, "Request Entity Too Large")


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (read from its IHDR); 800×800 for other images."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 800


def _record(
    world: World, message: dict[str, Any], kind: str, file_id: str, value: Any, caption: str
) -> None:
    upload = value if isinstance(value, Upload) else None
    world.files.append(
        SentFile(
            chat_id=message["chat"]["id"],
            message_id=message["message_id"],
            kind=kind,
            file_id=file_id,
            filename=upload.filename if upload else None,
            data=upload.data if upload else None,
            caption=caption,
            at=world.now(),
        )
    )


def send_document(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``sendDocument`` (upload, file id or URL)."""
    world.chat_for_bot_message(params.get("chat_id"))
    document = require(params, "document", "there is no document in the request")
    if isinstance(document, Upload):
        _check_upload(document, MAX_DOCUMENT)
    elif isinstance(document, dict) or not isinstance(document, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    caption, content = _caption(params)
    reuse = isinstance(document, str) and not _is_url(document)
    file_id = str(document) if reuse else _file_id("document")
    name = document.filename if isinstance(document, Upload) else None
    described: dict[str, Any] = {
        "file_id": file_id,
        "file_unique_id": secrets.token_hex(8),
        "file_name": name or "document",
        "mime_type": (mimetypes.guess_type(name)[0] if name else None)
        or "application/octet-stream",
    }
    if isinstance(document, Upload):
        described["file_size"] = len(document.data)
    content["document"] = described
    message = _deliver(world, params, "sendDocument", caption, content)
    _record(world, message, "document", file_id, document, caption)
    return message


def send_photo(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``sendPhoto`` (upload, file id or URL)."""
    world.chat_for_bot_message(params.get("chat_id"))
    photo = require(params, "photo", "there is no photo in the request")
    width, height = 800, 800
    if isinstance(photo, Upload):
        _check_upload(photo, MAX_PHOTO)
        if not photo.data.startswith(_IMAGE_MAGIC) and photo.data[8:12] != b"WEBP":
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = _image_size(photo.data)
    elif isinstance(photo, dict) or not isinstance(photo, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    caption, content = _caption(params)
    reuse = isinstance(photo, str) and not _is_url(photo)
    file_id = str(photo) if reuse else _file_id("photo")
    unique = secrets.token_hex(8)
    scale = max(width, height) / 90 if max(width, height) > 90 else 1.0
    content["photo"] = [
        {
            "file_id": file_id,
            "file_unique_id": unique + "s",
            "width": max(1, round(width / scale)),
            "height": max(1, round(height / scale)),
        },
        {
            "file_id": file_id,
            "file_unique_id": unique,
            "width": width,
            "height": height,
            **({"file_size": len(photo.data)} if isinstance(photo, Upload) else {}),
        },
    ]
    message = _deliver(world, params, "sendPhoto", caption, content)
    _record(world, message, "photo", file_id, photo, caption)
    return message


HANDLERS = {"sendDocument": send_document, "sendPhoto": send_photo}
