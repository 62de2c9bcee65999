"""The SOP calendar for the dashboard: every fire of the next days (the engine's own cron and
``sop.schedules.calendar``, as ``sopbot simulate`` prints it), each with its content status — a
briefing's items for its day (added with ``/brief add`` or in the content folder, exactly what
the briefing would post), a Q&A's topic (``/qa topic``) — and whether it is paused (``/sop
pause``). Pausing, resuming and adding items go through ``SopAdminService``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, ScheduleKind
from bot.db.repositories import SopRepository
from bot.services.sop.content import content_dir, items_for
from sop.engine import SopEngine
from sop.schedules import calendar

DAYS = 7


@dataclass(frozen=True)
class CalendarEntry:
    schedule_id: str
    kind: str
    template: str
    #: local time of the fire
    at: datetime
    paused: bool
    #: a segment the post goes to by DM (``None``: the communities)
    target: str | None
    #: briefings: items for the day (``None`` for other kinds)
    briefing_items: int | None
    #: Q&A: the topic set for that session (``None``: none set, or not a Q&A)
    qa_topic: str | None

    @property
    def ready(self) -> bool:
        """Has what it needs to go out: a briefing its items, a Q&A its topic."""
        if self.kind == ScheduleKind.BRIEFING:
            return bool(self.briefing_items)
        if self.kind == ScheduleKind.QA:
            return bool(self.qa_topic)
        return True


@dataclass(frozen=True)
class CalendarDay:
    day: date
    entries: list[CalendarEntry]


@dataclass(frozen=True)
class ScheduleState:
    schedule_id: str
    kind: str
    cron: str
    enabled: bool
    paused: bool


@dataclass(frozen=True)
class SopCalendar:
    days: list[CalendarDay]
    schedules: list[ScheduleState]


class CalendarQuery:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        content_root: Path,
    ) -> None:
        self._config = config
        self._engine = engine
        self._sop = SopRepository(session)
        self._content_root = content_root

    async def week(self, now: datetime, days: int = DAYS) -> SopCalendar:
        """From today (local) for ``days`` days; fires already past today are left out."""
        tz = self._config.tz
        first = now.astimezone(tz).date()
        last = first + timedelta(days=days - 1)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
        paused = await self._sop.paused()
        added = await self._sop.brief_counts(first, last)
        topics = await self._sop.qa_topics(first, last)
        schedules = {s.id: s for s in self._config.schedules}
        folder = content_dir(self._config, self._content_root)
        files = {first + timedelta(days=n): 0 for n in range(days)}
        for day in files:
            files[day] = len(items_for(folder, day))
        by_day: dict[date, list[CalendarEntry]] = {d: [] for d in files}
        for fire, schedule_id in calendar(self._engine.schedule_specs(), now, end):
            schedule = schedules.get(schedule_id)
            if schedule is None:
                continue
            local = fire.astimezone(tz)
            day = local.date()
            kind = schedule.effective_kind
            by_day[day].append(
                CalendarEntry(
                    schedule_id=schedule_id,
                    kind=str(kind),
                    template=schedule.template,
                    at=local,
                    paused=schedule_id in paused,
                    target=schedule.target,
                    briefing_items=added.get(day, 0) + files[day]
                    if kind == ScheduleKind.BRIEFING
                    else None,
                    qa_topic=topics.get((schedule_id, day)) if kind == ScheduleKind.QA else None,
                )
            )
        return SopCalendar(
            days=[CalendarDay(day, entries) for day, entries in by_day.items()],
            schedules=[
                ScheduleState(s.id, str(s.effective_kind), s.cron, s.enabled, s.id in paused)
                for s in self._config.schedules
            ],
        )
