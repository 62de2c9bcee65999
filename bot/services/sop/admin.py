"""Operators steering the SOP: /sop (list, pause, resume), /brief add, /qa topic; and members
reserving a seat for the evening Q&A."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, ScheduleKind
from bot.db.models import Member, QaSession
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository, SopRepository
from bot.services.dto import Person
from bot.services.messenger import Messenger
from sop.engine import SopEngine

#: how late quiet hours may push a Q&A reminder
REMINDER_SLACK = timedelta(minutes=30)


def reminder_time(engine: SopEngine, starts: datetime) -> datetime:
    """Quiet hours defer DMs, but a reminder the member asked for is useless after the
    session: when quiet hours would push it further than REMINDER_SLACK, it goes at the
    start."""
    deferred = engine.dm_time(starts)
    return deferred if deferred - starts <= REMINDER_SLACK else starts


@dataclass(frozen=True)
class ScheduleLine:
    id: str
    kind: str
    cron: str
    template: str
    paused: bool
    enabled: bool
    next_run: str | None
    last_status: str | None


class SopAdminService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._sop = SopRepository(session)
        self._members = MemberRepository(session)

    async def schedules(self, now: datetime) -> list[ScheduleLine]:
        paused = await self._sop.paused()
        last = await self._sop.last_runs()
        lines = []
        for schedule in self._config.schedules:
            fire = self._engine.next_fire(schedule.id, now)
            lines.append(
                ScheduleLine(
                    id=schedule.id,
                    kind=schedule.effective_kind,
                    cron=schedule.cron,
                    template=schedule.template,
                    paused=schedule.id in paused,
                    enabled=schedule.enabled,
                    next_run=fire.astimezone(self._config.tz).strftime("%m-%d %H:%M")
                    if fire and schedule.id not in paused and schedule.enabled
                    else None,
                    last_status=last[schedule.id].status if schedule.id in last else None,
                )
            )
        return lines

    def knows(self, schedule_id: str) -> bool:
        return any(s.id == schedule_id for s in self._config.schedules)

    async def pause(self, schedule_id: str, by: Person, now: datetime) -> bool:
        return await self._sop.pause(schedule_id, by.id, now)

    async def resume(self, schedule_id: str, now: datetime) -> bool:
        """Resumes; the fires passed while paused are not owed (nor reported as missed)."""
        resumed = await self._sop.resume(schedule_id)
        for schedule in self._config.schedules:
            if schedule.id == schedule_id:
                await self._sop.restart_schedule(schedule.id, schedule.cron, now)
        return resumed

    def tomorrow(self, now: datetime) -> date:
        return now.astimezone(self._config.tz).date() + timedelta(days=1)

    async def add_brief(self, day: date | None, text: str, by: Person, now: datetime) -> date:
        """Adds an item to ``day``'s briefing (tomorrow's when no day is given)."""
        target = day or self.tomorrow(now)
        await self._sop.add_brief_item(target, text, by.id, now)
        return target

    async def brief_items(self, day: date) -> list[str]:
        return await self._sop.brief_items(day)

    async def set_qa_topic(self, topic: str, now: datetime) -> tuple[str, date] | None:
        """Sets the topic of the next Q&A session; ``None`` when no Q&A schedule exists."""
        upcoming = [
            (fire, s.id)
            for s in self._config.schedules
            if s.effective_kind == ScheduleKind.QA
            and s.enabled
            and (fire := self._engine.next_fire(s.id, now)) is not None
        ]
        if not upcoming:
            return None
        fire, schedule_id = min(upcoming)
        day = fire.astimezone(self._config.tz).date()
        session = await self._sop.qa_session(schedule_id, day)
        session.topic = topic[:300]
        return schedule_id, day

    def _reminder_time(self, starts: datetime) -> datetime:
        return reminder_time(self._engine, starts)

    async def rsvp(self, session_id: int, person: Person, now: datetime) -> str:
        """Reserves a seat; returns the label template that answers the button press."""
        session = await self._sop.qa_session_by_id(session_id)
        if session is None or (session.starts_at and session.starts_at + timedelta(hours=2) < now):
            return "rsvp_closed"
        if not await self._sop.rsvp(session_id, person.id, now):
            return "rsvp_again"
        member = await self._members.get(person.id)
        if member is None or not member.reachable:
            return "rsvp_no_dm"  # the reminder is queued when they start the bot
        await self._queue_reminder(session, member, now)
        return "rsvp_ok"

    async def remind_reserved(self, user_id: int, now: datetime) -> int:
        """The member just started the bot: reminders for the seats they reserved before it
        could DM them. Returns how many were queued."""
        member = await self._members.get(user_id)
        if member is None or not member.reachable:
            return 0
        sessions = await self._sop.reserved_sessions(user_id, now - timedelta(hours=2))
        for session in sessions:
            await self._queue_reminder(session, member, now)
        return len(sessions)

    async def _queue_reminder(self, session: QaSession, member: Member, now: datetime) -> None:
        """The DM at the session's start (once per member and session: the key)."""
        starts = session.starts_at or now
        await self._messenger.send(
            key=f"qa-remind:{session.id}:{member.user_id}",
            chat_id=member.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.QA_REMINDER,
            template="qa_reminder",
            locale=self._messenger.renderer.locale_for(member.language_code),
            now=now,
            context={
                "name": member.first_name,
                "topic": session.topic,
                "starts": starts.astimezone(self._config.tz).strftime("%H:%M"),
            },
            due_at=self._reminder_time(max(starts, now)),
        )
