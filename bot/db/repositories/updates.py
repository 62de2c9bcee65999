"""Which Telegram updates were already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessedUpdate
from bot.db.upsert import insert_for


class UpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, update_id: int, now: datetime) -> bool:
        """``True`` the first time an update id is seen (inside the update's transaction)."""
        stmt = insert_for(self._session, ProcessedUpdate).values(
            update_id=update_id, handled_at=now
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["update_id"]).returning(
            ProcessedUpdate.update_id
        )
        return (await self._session.execute(stmt)).first() is not None

    async def forget_before(self, cutoff: datetime) -> None:
        await self._session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < cutoff)
        )
