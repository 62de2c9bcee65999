"""The SOP engine's records: runs, pauses, briefing items, Q&A sessions and RSVPs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import BriefItem, QaRsvp, QaSession, RunStatus, SopPause, SopRun, SopState
from bot.db.upsert import insert_for


class SopRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def installed_at(self, now: datetime) -> datetime:
        """When this deployment's engine first ran (recorded now if never): cron fires before
        it are history, not missed runs."""
        at = (
            await self._session.execute(select(SopState.at).where(SopState.key == "installed"))
        ).scalar_one_or_none()
        if at is not None:
            return at
        await self._session.execute(
            insert_for(self._session, SopState)
            .values(key="installed", at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return (
            await self._session.execute(select(SopState.at).where(SopState.key == "installed"))
        ).scalar_one()

    async def schedule_sinces(
        self, schedules: Sequence[tuple[str, str]], now: datetime
    ) -> dict[str, datetime]:
        """Since when each (id, cron) has existed in this form (recorded now when new): a new
        or re-timed schedule owes nothing for the fires before. One read, writes only for
        schedules seen for the first time."""
        keys = {schedule_id: _since_key(schedule_id, cron) for schedule_id, cron in schedules}
        if not keys:
            return {}
        known = dict(
            (
                await self._session.execute(
                    select(SopState.key, SopState.at).where(SopState.key.in_(keys.values()))
                )
            ).all()
        )
        for key in set(keys.values()) - set(known):
            await self._session.execute(
                insert_for(self._session, SopState)
                .values(key=key, at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            known[key] = now
        return {schedule_id: known[key] for schedule_id, key in keys.items()}

    async def restart_schedule(self, schedule_id: str, cron: str, now: datetime) -> None:
        """A resumed schedule owes nothing for the fires it was paused through."""
        key = _since_key(schedule_id, cron)
        stmt = insert_for(self._session, SopState).values(key=key, at=now)
        await self._session.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"at": now})
        )

    async def runs_since(self, since: datetime) -> set[tuple[str, datetime]]:
        result = await self._session.execute(
            select(SopRun.schedule_id, SopRun.fire_at).where(SopRun.fire_at >= since)
        )
        return {(row[0], row[1]) for row in result.all()}

    async def record_run(
        self,
        schedule_id: str,
        fire_at: datetime,
        status: RunStatus,
        now: datetime,
        detail: str | None = None,
    ) -> bool:
        """``False`` when that fire was recorded before (another instance, a restart)."""
        stmt = (
            insert_for(self._session, SopRun)
            .values(
                schedule_id=schedule_id,
                fire_at=fire_at,
                status=status,
                carried_at=now,
                detail=detail and detail[:300],
            )
            .on_conflict_do_nothing(index_elements=["schedule_id", "fire_at"])
            .returning(SopRun.id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def set_run_status(
        self, schedule_id: str, fire_at: datetime, status: RunStatus, detail: str | None
    ) -> None:
        await self._session.execute(
            update(SopRun)
            .where(SopRun.schedule_id == schedule_id, SopRun.fire_at == fire_at)
            .values(status=status, detail=detail and detail[:300])
        )

    async def last_runs(self) -> dict[str, SopRun]:
        latest = (
            select(SopRun.schedule_id, func.max(SopRun.fire_at).label("fire_at"))
            .group_by(SopRun.schedule_id)
            .subquery()
        )
        result = await self._session.execute(
            select(SopRun).join(
                latest,
                (SopRun.schedule_id == latest.c.schedule_id) & (SopRun.fire_at == latest.c.fire_at),
            )
        )
        return {run.schedule_id: run for run in result.scalars()}

    async def paused(self) -> set[str]:
        return set((await self._session.execute(select(SopPause.schedule_id))).scalars())

    async def pause(self, schedule_id: str, by: int, now: datetime) -> bool:
        stmt = (
            insert_for(self._session, SopPause)
            .values(
                schedule_id=schedule_id,
                paused_at=now,
                paused_by=by,
            )
            .on_conflict_do_nothing(index_elements=["schedule_id"])
            .returning(SopPause.schedule_id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def resume(self, schedule_id: str) -> bool:
        result = await self._session.execute(
            delete(SopPause).where(SopPause.schedule_id == schedule_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def brief_items(self, day: date) -> list[str]:
        result = await self._session.execute(
            select(BriefItem.text).where(BriefItem.day == day).order_by(BriefItem.id)
        )
        return list(result.scalars())

    async def add_brief_item(self, day: date, text: str, by: int, now: datetime) -> int:
        item = BriefItem(day=day, text=text[:1000], added_by=by, added_at=now)
        self._session.add(item)
        await self._session.flush()
        return item.id

    async def qa_session(self, schedule_id: str, day: date) -> QaSession:
        """The Q&A session of ``schedule_id`` on ``day`` (created empty when new)."""
        stmt = insert_for(self._session, QaSession).values(schedule_id=schedule_id, day=day)
        await self._session.execute(
            stmt.on_conflict_do_nothing(index_elements=["schedule_id", "day"])
        )
        result = await self._session.execute(
            select(QaSession)
            .where(QaSession.schedule_id == schedule_id, QaSession.day == day)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one()

    async def brief_counts(self, first: date, last: date) -> dict[date, int]:
        """Briefing items added by operators per day in ``first..last``."""
        result = await self._session.execute(
            select(BriefItem.day, func.count())
            .where(BriefItem.day >= first, BriefItem.day <= last)
            .group_by(BriefItem.day)
        )
        return {day: int(n) for day, n in result.all()}

    async def qa_topics(self, first: date, last: date) -> dict[tuple[str, date], str | None]:
        """The Q&A sessions of ``first..last`` that exist (nothing is created), with topics."""
        result = await self._session.execute(
            select(QaSession.schedule_id, QaSession.day, QaSession.topic).where(
                QaSession.day >= first, QaSession.day <= last
            )
        )
        return {(sid, day): topic for sid, day, topic in result.all()}

    async def qa_session_by_id(self, session_id: int) -> QaSession | None:
        return await self._session.get(QaSession, session_id)

    async def rsvp(self, session_id: int, user_id: int, now: datetime) -> bool:
        """``True`` for a new reservation, ``False`` when the member had one."""
        stmt = (
            insert_for(self._session, QaRsvp)
            .values(
                session_id=session_id,
                user_id=user_id,
                at=now,
            )
            .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
            .returning(QaRsvp.user_id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def reserved_sessions(self, user_id: int, starting_after: datetime) -> list[QaSession]:
        """Sessions the member reserved that start after ``starting_after``."""
        result = await self._session.execute(
            select(QaSession)
            .join(QaRsvp, QaRsvp.session_id == QaSession.id)
            .where(QaRsvp.user_id == user_id, QaSession.starts_at > starting_after)
        )
        return list(result.scalars())


def _since_key(schedule_id: str, cron: str) -> str:
    """A bounded key per (schedule, cron): ids and crons of any length stay distinct."""
    return "since:" + hashlib.sha256(f"{schedule_id}\0{cron}".encode()).hexdigest()[:40]
