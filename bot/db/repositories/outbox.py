"""The outbox: queue, claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), settle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage
from bot.db.models.outbox import DEFAULT_LANE, ChatKind, OutboxStatus
from bot.db.upsert import insert_for


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, OutboxMessage] = {}  # read fresh by :meth:`load`

    async def enqueue(
        self,
        *,
        key: str,
        chat_id: int,
        chat_kind: ChatKind,
        purpose: str,
        payload: dict[str, Any],
        now: datetime,
        due_at: datetime | None = None,
        method: str = "sendMessage",
        lane: int = DEFAULT_LANE,
    ) -> int | None:
        """Queues one call; returns its id, or ``None`` when that key was queued before.

        ``purpose`` is a :class:`~bot.db.models.outbox.Purpose` for everything the bot sends
        (only the delivery hooks read it; tests of the loop queue rows under labels of their
        own).

        ``lane`` 0 (the service desk) is claimed ahead of lane 1 when both are due."""
        stmt = (
            insert_for(self._session, OutboxMessage)
            .values(
                key=key[:200],
                chat_id=chat_id,
                chat_kind=chat_kind,
                purpose=purpose,
                method=method,
                lane=lane,
                payload=payload,
                status=OutboxStatus.PENDING,
                due_at=due_at or now,
                attempts=0,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.id)
        )
        row = (await self._session.execute(stmt)).first()
        return None if row is None else int(row[0])

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int, *, max_lane: int | None = None
    ) -> Sequence[OutboxMessage]:
        """Due rows (and rows whose sender died holding them), leased to this sender; with
        ``max_lane``, only rows of that lane or a lower one."""
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.due_at <= now,
                *(() if max_lane is None else (OutboxMessage.lane <= max_lane,)),
                or_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    (OutboxMessage.status == OutboxStatus.SENDING)
                    & (OutboxMessage.lease_until <= now),
                ),
            )
            .order_by(OutboxMessage.lane, OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = [row[0] for row in (await self._session.execute(due)).all()]
        if not ids:
            return []
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.SENDING, lease_until=lease_until)
        )
        result = await self._session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.lane, OutboxMessage.due_at, OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return result.scalars().all()

    async def load(self, row_ids: Sequence[int]) -> None:
        """Reads rows about to be settled in one query instead of one each."""
        if row_ids:
            result = await self._session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids))
                .execution_options(populate_existing=True)
            )
            self._loaded.update((row.id, row) for row in result.scalars())

    async def _fresh(self, row_id: int) -> OutboxMessage | None:
        row = self._loaded.get(row_id)
        if row is not None:
            return row
        return await self._session.get(OutboxMessage, row_id, populate_existing=True)

    async def mark_sent(
        self, row_id: int, at: datetime, message_id: int | None
    ) -> OutboxMessage | None:
        row = await self._fresh(row_id)
        if row is None:
            return None
        row.status, row.sent_at, row.message_id, row.lease_until = (
            OutboxStatus.SENT,
            at,
            message_id,
            None,
        )
        row.attempts += 1
        return row

    async def mark_sent_unknown(
        self, row_id: int, at: datetime, reason: str
    ) -> OutboxMessage | None:
        """The call was made but its answer could not be read: settled, never made again."""
        row = await self._fresh(row_id)
        if row is None:
            return None
        row.status, row.sent_at, row.message_id, row.lease_until = (
            OutboxStatus.SENT_UNKNOWN,
            at,
            None,
            None,
        )
        row.last_error = reason[:300]
        row.attempts += 1
        return row

    async def hold(self, row_ids: Sequence[int], lease_until: datetime) -> None:
        """Extends this sender's lease on rows it still holds (a row settled meanwhile stays
        settled: only rows still ``sending`` are touched)."""
        if row_ids:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == OutboxStatus.SENDING)
                .values(lease_until=lease_until)
            )

    async def hold_for_retry(
        self, row_id: int, *, due_at: datetime, lease_until: datetime, error: str, attempts: int
    ) -> None:
        """The row stays with this sender, to be tried again at ``due_at`` (a crash meanwhile
        hands it to the next sender once the lease runs out)."""
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(
                due_at=due_at, lease_until=lease_until, last_error=error[:300], attempts=attempts
            )
        )

    async def release(self, row_ids: Sequence[int]) -> None:
        """Hands rows back untouched (shutdown)."""
        if row_ids:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == OutboxStatus.SENDING)
                .values(status=OutboxStatus.PENDING, lease_until=None)
            )

    async def mark_failed(self, row_id: int, error: str) -> OutboxMessage | None:
        """Gives up on a row. Its key is set free (renamed ``…#failed:<id>``), so the effect it
        stood for can be queued again once its cause is mended (a fixed template…)."""
        row = await self._fresh(row_id)
        if row is None:
            return None
        row.status, row.last_error, row.lease_until = OutboxStatus.FAILED, error[:300], None
        row.key = f"{row.key[:180]}#failed:{row.id}"
        row.attempts += 1
        return row

    async def fail_pending_for_chat(self, chat_id: int, error: str) -> int:
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(
                status=OutboxStatus.FAILED,
                last_error=error[:300],
                key=func.substr(OutboxMessage.key, 1, 180)
                + "#failed:"
                + func.cast(OutboxMessage.id, String),
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def next_due_at(self) -> datetime | None:
        """When the next row becomes claimable: a pending row falls due, or a sender's lease
        runs out."""
        pending = (
            await self._session.execute(
                select(func.min(OutboxMessage.due_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            )
        ).scalar_one_or_none()  # min() keeps the column type: aware UTC
        leased = (
            await self._session.execute(
                select(func.min(OutboxMessage.lease_until)).where(
                    OutboxMessage.status == OutboxStatus.SENDING
                )
            )
        ).scalar_one_or_none()
        times = [t for t in (pending, leased) if t is not None]
        return min(times) if times else None
