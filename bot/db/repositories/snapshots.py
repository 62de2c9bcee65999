"""Dashboard snapshots: figures worked out ahead, kept under a key. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import DashboardSnapshot
from bot.db.upsert import insert_for


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> DashboardSnapshot | None:
        return await self._session.get(DashboardSnapshot, key)

    async def put(self, key: str, payload: dict[str, Any], now: datetime) -> None:
        stmt = insert_for(self._session, DashboardSnapshot).values(
            key=key, payload=payload, computed_at=now, read_at=now
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"payload": payload, "computed_at": now}
            )
        )

    async def mark_read(self, key: str, now: datetime) -> None:
        await self._session.execute(
            update(DashboardSnapshot).where(DashboardSnapshot.key == key).values(read_at=now)
        )

    async def watched(self, read_since: datetime, computed_before: datetime) -> list[str]:
        """Keys read since ``read_since`` whose figures are older than ``computed_before``."""
        result = await self._session.execute(
            select(DashboardSnapshot.key)
            .where(
                DashboardSnapshot.read_at >= read_since,
                DashboardSnapshot.computed_at < computed_before,
            )
            .order_by(DashboardSnapshot.key)
        )
        return list(result.scalars())
