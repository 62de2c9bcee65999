"""The refusal notices given in communities (one per member per hour)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import RefusalNotice
from bot.db.upsert import insert_for


class RefusalNoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, user_id: int, now: datetime, every: timedelta) -> bool:
        """``True`` (and ``now`` recorded) when ``user_id`` got no notice in the ``every`` before
        ``now``. One statement: of two processes claiming at once, one wins (the other waits on
        the row and then finds it taken)."""
        stmt = insert_for(self._session, RefusalNotice).values(user_id=user_id, notified_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"notified_at": now},
            where=RefusalNotice.notified_at <= now - every,
        ).returning(RefusalNotice.user_id)
        return (await self._session.execute(stmt)).first() is not None
