"""Files in the outbox at delivery time: read slice by slice from the database into the
upload, dropped once their row is settled."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InputFile
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage
from bot.db.repositories.files import OutboxFileRepository
from bot.db.session import Database

if TYPE_CHECKING:
    from aiogram import Bot


class MissingFileError(LookupError):
    """A slice of a queued file is gone (swept while the row was still being sent)."""


class StoredFile(InputFile):
    """An upload streamed from the database: each slice is read in its own short session, so
    neither the file nor a transaction is held for the length of the upload."""

    def __init__(self, db: Database, ref: str, filename: str, chunks: int) -> None:
        super().__init__(filename=filename)
        self._db = db
        self._ref = ref
        self._chunks = chunks

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        for seq in range(self._chunks):
            async with self._db.sessions() as session:
                data = await OutboxFileRepository(session).chunk(self._ref, seq)
            if data is None:
                raise MissingFileError(f"slice {seq} of file {self._ref} is gone")
            yield data


class StoredFiles:
    """What the sender needs to turn a row's ``_file`` reference into an upload."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, ref: str) -> StoredFile | None:
        """The file, or ``None`` when nothing is stored under ``ref``."""
        async with self._db.sessions() as session:
            header = await OutboxFileRepository(session).header(ref)
        if header is None:
            return None
        return StoredFile(self._db, ref, header.filename, header.chunks)


class FileCleanupHook:
    """Delivery hook: a settled row's file goes, with any left by rows settled without hooks."""

    async def _drop(self, session: AsyncSession, row: OutboxMessage) -> None:
        if isinstance(row.payload, dict) and "_file" in row.payload:
            files = OutboxFileRepository(session)
            await files.drop_for(row.id)
            await files.sweep()

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._drop(session, row)

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        await self._drop(session, row)

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._drop(session, row)
