"""Daily and weekly reports to the team chat, at the configured local times, each period once
(a report run row is claimed in the same transaction that queues the messages)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import CouponRepository, TagRepository
from bot.db.repositories.broadcasts import BroadcastRepository, BroadcastSummary
from bot.db.repositories.coupons import ConversionRow
from bot.db.repositories.privacy import PrivacyRepository
from bot.db.repositories.reports import FunnelRow, ReportDataRepository, ReportRunRepository
from bot.db.repositories.sop import SopRepository
from bot.services.console.kpi import KpiPeriod, KpiService
from bot.services.messenger import Messenger

log = logging.getLogger(__name__)

#: a report whose time passed while the bot was down still goes out within this
REPORT_GRACE = timedelta(hours=12)
#: questions older than this are no longer listed as overdue in the daily report
OVERDUE_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class DailyOps:
    day: date
    sop_runs: list[tuple[str, str, int]]
    overdue_questions: int
    oldest_overdue: datetime | None
    failed: list[tuple[str, int]]
    #: members erased (``/forget``, ``/member ID forget``) and pseudonymised (retention) that day
    erased: int = 0
    pseudonymised: int = 0

    @property
    def failed_total(self) -> int:
        return sum(n for _, n in self.failed)


@dataclass(frozen=True)
class Weekly:
    first: date
    last: date
    funnel: list[FunnelRow]
    tags: list[tuple[str, int, int]]
    conversion: list[ConversionRow]
    best: BroadcastSummary | None
    worst: BroadcastSummary | None


class ReportService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, messenger: Messenger, kpi: KpiService
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._kpi = kpi
        self._runs = ReportRunRepository(session)
        self._data = ReportDataRepository(session)
        self._privacy = PrivacyRepository(session)

    async def run_due(self, now: datetime) -> datetime | None:
        """Sends the reports whose time has come (each once); returns when to look next."""
        if self._config.team.chat is None:
            return None
        tz, cfg = self._config.tz, self._config.reports
        today = now.astimezone(tz).date()
        # a report needs its last day whole (a bot installed yesterday sends its first daily
        # report tomorrow)
        installed = (await SopRepository(self._session).installed_at(now)).astimezone(tz).date()
        wake: list[datetime] = []
        if cfg.daily.enabled:
            fire = _at(today, cfg.daily.time, self._config)
            if fire <= now < fire + REPORT_GRACE:
                yesterday = today - timedelta(days=1)
                if installed < yesterday and await self._runs.claim("daily", yesterday, now):
                    await self._send_daily(yesterday, now)
            wake.append(
                fire if now < fire else _at(today + timedelta(days=1), cfg.daily.time, self._config)
            )
        if cfg.weekly.enabled:
            fire_day = today - timedelta(days=(today.weekday() - cfg.weekly.weekday) % 7)
            fire = _at(fire_day, cfg.weekly.time, self._config)
            if fire > now:
                wake.append(fire)
                fire_day -= timedelta(days=7)
                fire = _at(fire_day, cfg.weekly.time, self._config)
            else:
                wake.append(_at(fire_day + timedelta(days=7), cfg.weekly.time, self._config))
            if fire <= now < fire + REPORT_GRACE:
                first = fire_day - timedelta(days=6)
                if installed < fire_day and await self._runs.claim("weekly", first, now):
                    await self._send_weekly(first, fire_day, fire, now)
        return min(wake) if wake else None

    async def _send_daily(self, day: date, now: datetime) -> None:
        team = self._team_chat
        start, end = (
            _at(day, time(), self._config),
            _at(day + timedelta(days=1), time(), self._config),
        )
        chat_ids = [c.chat_id for c in self._config.communities]
        report = await self._kpi.report(KpiPeriod("yesterday", day, day), now)
        count, oldest = await self._data.overdue_questions(chat_ids, now - OVERDUE_LOOKBACK, now)
        ops = DailyOps(
            day=day,
            sop_runs=await self._data.sop_runs(start, end),
            overdue_questions=count,
            oldest_overdue=oldest,
            failed=await self._data.failed_deliveries(start, end),
            erased=await self._privacy.count_events("erased", start, end),
            pseudonymised=await self._privacy.count_events("pseudonymised", start, end),
        )
        locale = self._config.default_locale
        await self._messenger.send(
            key=f"report:daily:{day.isoformat()}",
            chat_id=team,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.REPORT,
            template="kpi",
            locale=locale,
            context={"kpi": report},
            now=now,
        )
        await self._messenger.send(
            key=f"report:daily:{day.isoformat()}:ops",
            chat_id=team,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.REPORT,
            template="daily_report",
            locale=locale,
            context={"ops": ops, "now": now, "tz": self._config.tz},
            now=now,
        )
        log.info("daily report for %s queued", day)

    async def _send_weekly(self, first: date, last: date, fire: datetime, now: datetime) -> None:
        start = _at(first, time(), self._config)
        chat_ids = [c.chat_id for c in self._config.communities]
        finished = await BroadcastRepository(self._session).finished_between(start, fire)
        ranked = sorted((b for b in finished if b.audience), key=lambda b: b.sent / b.audience)
        movements = await TagRepository(self._session).movements(start, fire)
        weekly = Weekly(
            first=first,
            last=last,
            funnel=await self._data.funnel(chat_ids, start, fire),
            tags=[(tag, added, removed) for tag, (added, removed) in movements.items()],
            conversion=await CouponRepository(self._session).conversion(start, fire),
            best=ranked[-1] if ranked else None,
            worst=ranked[0] if len(ranked) > 1 else None,
        )
        report = await self._kpi.report(KpiPeriod("7d", first, last), now)
        locale = self._config.default_locale
        await self._messenger.send(
            key=f"report:weekly:{first.isoformat()}",
            chat_id=self._team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.REPORT,
            template="kpi",
            locale=locale,
            context={"kpi": report},
            now=now,
        )
        await self._messenger.send(
            key=f"report:weekly:{first.isoformat()}:review",
            chat_id=self._team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.REPORT,
            template="weekly_report",
            locale=locale,
            context={"week": weekly},
            now=now,
        )
        log.info("weekly report for %s..%s queued", first, last)

    @property
    def _team_chat(self) -> int:
        assert self._config.team.chat is not None
        return self._config.team.chat


def _at(day: date, clock: time, config: CommunityConfig) -> datetime:
    return datetime.combine(day, clock, tzinfo=config.tz)
