"""Daily counters: per-member activity and per-community rollups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ActivityDaily, DailyRollup
from bot.db.upsert import insert_for


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def bump(self, chat_id: int, user_id: int, day: date) -> bool:
        """Counts one message; ``True`` when it is the member's first in that chat that day."""
        stmt = insert_for(self._session, ActivityDaily).values(
            chat_id=chat_id, user_id=user_id, day=day, messages=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id", "user_id", "day"],
            set_={"messages": ActivityDaily.messages + 1},
        ).returning(ActivityDaily.messages)
        messages = (await self._session.execute(stmt)).scalar_one()
        return int(messages) == 1


class RollupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, chat_id: int, day: date, **counters: int) -> None:
        """Adds to the day's counters (created at zero when missing)."""
        unknown = set(counters) - set(DailyRollup.COUNTERS)
        if unknown:
            raise ValueError(f"unknown rollup counters: {sorted(unknown)}")
        columns = {name: getattr(DailyRollup, name) for name in counters}
        stmt = insert_for(self._session, DailyRollup).values(chat_id=chat_id, day=day, **counters)
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id", "day"],
            set_={name: columns[name] + value for name, value in counters.items()},
        )
        await self._session.execute(stmt)

    async def set_members_reported(self, chat_id: int, day: date, count: int) -> None:
        stmt = insert_for(self._session, DailyRollup).values(
            chat_id=chat_id, day=day, members_reported=count
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["chat_id", "day"], set_={"members_reported": count}
            )
        )

    async def get(self, chat_id: int, day: date) -> DailyRollup | None:
        result = await self._session.execute(
            select(DailyRollup).where(DailyRollup.chat_id == chat_id, DailyRollup.day == day)
        )
        return result.scalar_one_or_none()
