"""Bytes of files queued in the outbox, stored in slices next to their row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxFile, OutboxFileChunk, OutboxMessage
from bot.db.models.outbox import OutboxStatus

#: one slice of a file; a database row, never the whole file, is what sits in memory
CHUNK = 1024 * 1024


class OutboxFileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def store(
        self,
        *,
        ref: str,
        outbox_id: int,
        filename: str,
        slices: AsyncIterator[bytes],
        now: datetime,
    ) -> int:
        """Writes the file slice by slice; returns its size in bytes."""
        size = seq = 0
        async for data in slices:
            # a plain INSERT: no ORM object keeps the slice alive in the session
            await self._session.execute(insert(OutboxFileChunk).values(ref=ref, seq=seq, data=data))
            size += len(data)
            seq += 1
        self._session.add(
            OutboxFile(
                ref=ref,
                outbox_id=outbox_id,
                filename=filename[:255],
                size=size,
                chunks=seq,
                created_at=now,
            )
        )
        await self._session.flush()
        return size

    async def header(self, ref: str) -> OutboxFile | None:
        return await self._session.get(OutboxFile, ref)

    async def chunk(self, ref: str, seq: int) -> bytes | None:
        return (
            await self._session.execute(
                select(OutboxFileChunk.data).where(
                    OutboxFileChunk.ref == ref, OutboxFileChunk.seq == seq
                )
            )
        ).scalar_one_or_none()

    async def drop_for(self, outbox_id: int) -> None:
        """The row is settled: its file is no longer needed."""
        refs = select(OutboxFile.ref).where(OutboxFile.outbox_id == outbox_id)
        await self._session.execute(delete(OutboxFileChunk).where(OutboxFileChunk.ref.in_(refs)))
        await self._session.execute(delete(OutboxFile).where(OutboxFile.outbox_id == outbox_id))

    async def sweep(self) -> None:
        """Drops files whose row is settled or gone (rows failed in bulk when a member became
        unreachable skip the delivery hooks)."""
        live = select(OutboxMessage.id).where(
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
        )
        dead = select(OutboxFile.ref).where(OutboxFile.outbox_id.not_in(live))
        await self._session.execute(delete(OutboxFileChunk).where(OutboxFileChunk.ref.in_(dead)))
        await self._session.execute(delete(OutboxFile).where(OutboxFile.outbox_id.not_in(live)))
