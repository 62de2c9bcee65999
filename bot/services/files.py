"""Files the bot sends (CSV exports, charts): Telegram's limits and reading in slices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from bot.db.repositories.files import CHUNK
from bot.errors import SopbotError

FileKind = Literal["document", "photo"]
#: what a bot may upload (https://core.telegram.org/bots/api#sending-files)
LIMITS: dict[str, int] = {"document": 50 * 1024 * 1024, "photo": 10 * 1024 * 1024}
METHODS: dict[str, str] = {"document": "sendDocument", "photo": "sendPhoto"}
#: Telegram's limit for a caption (visible characters)
MAX_CAPTION = 1024


class FileRejectedError(SopbotError):
    """A file Telegram would refuse (too big, empty): nothing was queued."""

    def __init__(self, reason: str, *, size: int, limit: int) -> None:
        self.reason = reason
        self.size = size
        self.limit = limit
        super().__init__(reason)


def size_of(data: bytes | None, path: Path | None) -> int:
    if (data is None) == (path is None):
        raise ValueError("give either data or path")
    return len(data) if data is not None else Path(path).stat().st_size  # type: ignore[arg-type]


def check_size(kind: FileKind, size: int) -> None:
    limit = LIMITS[kind]
    if size == 0:
        raise FileRejectedError("the file is empty", size=size, limit=limit)
    if size > limit:
        raise FileRejectedError(
            f"{size / 1024 / 1024:.1f} MB is over Telegram's "
            f"{format(round(limit / 1024 / 1024, 1), 'g')} MB limit "
            f"for a {kind}",
            size=size,
            limit=limit,
        )


async def slices(data: bytes | None, path: Path | None) -> AsyncIterator[bytes]:
    """The file in slices of at most ``CHUNK`` bytes (a path is read a slice at a time)."""
    if data is not None:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]
        return
    assert path is not None
    file = await asyncio.to_thread(Path(path).open, "rb")  # off the event loop, as each read
    try:
        while block := await asyncio.to_thread(file.read, CHUNK):
            yield block
    finally:
        file.close()
