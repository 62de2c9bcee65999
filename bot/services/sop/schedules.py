"""The daily SOPs on their cron: plain messages, the morning briefing, the evening Q&A."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, ScheduleConfig, ScheduleKind
from bot.db.models import RunStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import SopRepository
from bot.services.messenger import Messenger
from bot.services.sop.content import content_dir, items_for
from bot.services.sop.targets import TargetedSend
from sop.engine import SopEngine
from sop.schedules import Run

log = logging.getLogger(__name__)

RSVP_PREFIX = "rsvp:"


class ScheduleService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        content_root: Path,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._sop = SopRepository(session)
        self._content_root = content_root
        self._targets = TargetedSend(session, config, engine, messenger)

    async def carry_out_due(self, now: datetime) -> datetime | None:
        """Every schedule whose time has come, once; missed ones reported; next check time."""
        # only each schedule's latest fire can be due or missed: read the runs from the
        # earliest of those on (one row per schedule or so, whatever the history)
        earliest = self._engine.earliest_latest_fire(now)
        done = await self._sop.runs_since(earliest) if earliest is not None else set()
        installed = await self._sop.installed_at(now)
        sinces = await self._sop.schedule_sinces(
            [(s.id, s.cron) for s in self._config.schedules], now
        )
        since = {schedule_id: max(installed, at) for schedule_id, at in sinces.items()}
        plan = self._engine.plan(done=done, paused=await self._sop.paused(), now=now, since=since)
        for run in plan.due:
            schedule = self._schedule(run.schedule_id)
            if schedule is None or not await self._sop.record_run(
                run.schedule_id, run.fire_at, RunStatus.SENT, now
            ):
                continue
            status, detail = await self._carry_out(schedule, run, now)
            if status != RunStatus.SENT:
                await self._sop.set_run_status(run.schedule_id, run.fire_at, status, detail)
        for run in plan.missed:
            if await self._sop.record_run(
                run.schedule_id, run.fire_at, RunStatus.MISSED, now, f"late by {run.late_by}"
            ):
                await self._tell_team(
                    "sop_missed",
                    {
                        "schedule": run.schedule_id,
                        "at": self._local(run.fire_at),
                        "late_minutes": int(run.late_by.total_seconds() // 60),
                    },
                    f"missed:{run.schedule_id}:{run.fire_at.isoformat()}",
                    now,
                )
        return plan.next_check

    async def _carry_out(
        self, schedule: ScheduleConfig, run: Run, now: datetime
    ) -> tuple[RunStatus, str | None]:
        day = run.fire_at.astimezone(self._config.tz).date()
        context: dict[str, Any] = {"day": day.isoformat(), "late": run.late_by.total_seconds() > 60}
        markup = None
        kind = schedule.effective_kind
        if kind == ScheduleKind.BRIEFING:
            items = await self._sop.brief_items(day) + items_for(self._content_dir(), day)
            if not items:
                await self._tell_team(
                    "briefing_empty",
                    {"schedule": schedule.id, "day": day.isoformat()},
                    f"brief-empty:{schedule.id}:{day.isoformat()}",
                    now,
                )
                return RunStatus.NO_CONTENT, "no briefing items for the day"
            context["items"] = items
        elif kind == ScheduleKind.QA:
            session = await self._sop.qa_session(schedule.id, day)
            session.starts_at = self._starts_at(schedule, run, day)
            session.announced_at = now
            context.update(topic=session.topic, starts=self._local(session.starts_at))
            label = self._messenger.label(
                "rsvp_button", self._messenger.renderer.default_locale, fallback="✋"
            )
            markup = {
                "inline_keyboard": [
                    [{"text": label, "callback_data": f"{RSVP_PREFIX}{session.id}"}]
                ]
            }
        if schedule.target is not None:  # by DM to a segment's reachable members
            sent = await self._targets.send(
                schedule_id=schedule.id,
                target=schedule.target,
                template=schedule.template,
                fire_at=run.fire_at,
                context=context,
                now=now,
                ad=schedule.promotional,
            )
            if sent is None:
                return RunStatus.RENDER_FAILED, f"template {schedule.template} failed"
            return RunStatus.SENT, f"{sent} members of {schedule.target}"
        queued = 0
        for community in self._config.communities:
            context["community"] = community.title
            queued += (
                await self._messenger.send(
                    key=f"sop:{schedule.id}:{int(run.fire_at.timestamp())}:{community.chat_id}",
                    chat_id=community.chat_id,
                    chat_kind=ChatKind.GROUP,
                    purpose=Purpose(f"sop:{kind}"),
                    template=schedule.template,
                    locale=self._messenger.renderer.default_locale,
                    context=context,
                    now=now,
                    reply_markup=markup,
                    ad=schedule.promotional,
                )
                is not None
            )
        if not queued:  # the template failed (the team was told): nothing went
            return RunStatus.RENDER_FAILED, f"template {schedule.template} failed"
        return RunStatus.SENT, None

    def _starts_at(self, schedule: ScheduleConfig, run: Run, day: date) -> datetime:
        if schedule.starts_at is None:
            return run.fire_at
        hour, minute = (int(part) for part in schedule.starts_at.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=self._config.tz)

    async def _tell_team(
        self, template: str, context: dict[str, Any], key: str, now: datetime
    ) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            log.warning("%s: %s (no team chat to tell)", template, context)
            return
        await self._messenger.send(
            key=f"team:{key}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.TEAM,
            template=template,
            locale=self._messenger.renderer.default_locale,
            context=context,
            now=now,
        )

    def _schedule(self, schedule_id: str) -> ScheduleConfig | None:
        return next((s for s in self._config.schedules if s.id == schedule_id), None)

    def _content_dir(self) -> Path | None:
        return content_dir(self._config, self._content_root)

    def _local(self, at: datetime) -> str:
        return at.astimezone(self._config.tz).strftime("%Y-%m-%d %H:%M")
