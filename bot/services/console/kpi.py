"""KPI figures per community for a day or a week, in the community's timezone, each against
the period before and the 7-day average (from the daily rollups and small per-day aggregates;
nothing here grows with the number of members or the length of the history)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.community import CommunityChat
from bot.db.models import GLOBAL_CHAT, DailyRollup
from bot.db.repositories.kpi import KpiRepository, WelcomeCounts
from bot.db.repositories.moderation import ModActionRepository, ModAlertRepository
from bot.services.desk.figures import DeskPeriodFigures, desk_figures, percentile

#: a figure more than this far from the one it is compared with is flagged (the seed's rule)
DEVIATION = 0.2
#: how many sources /kpi lists
TOP_SOURCES = 3
#: the figures of :meth:`KpiService.daily`
DAILY_KEYS = (
    "joins",
    "leaves",
    "active",
    "messages",
    "response_median",
    "coupons_issued",
    "coupons_redeemed",
)


@dataclass(frozen=True)
class KpiPeriod:
    """Local days ``first``..``last`` (inclusive); ``kind`` is today, yesterday, day or 7d."""

    kind: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, days: int) -> KpiPeriod:
        return KpiPeriod(
            self.kind, self.first - timedelta(days=days), self.last - timedelta(days=days)
        )


@dataclass(frozen=True)
class Figure:
    """One figure with what it is compared with (``None`` where there is nothing to compare)."""

    key: str
    value: float | None
    prev: float | None = None
    avg: float | None = None
    #: count, signed (net growth), share (0..1), minutes (shown from seconds)
    unit: str = "count"
    #: e.g. "5/5" beside a share
    detail: str | None = None

    @property
    def vs_prev(self) -> float | None:
        return _change(self.value, self.prev)

    @property
    def vs_avg(self) -> float | None:
        return _change(self.value, self.avg)

    @property
    def flagged(self) -> bool:
        return any(c is not None and abs(c) > DEVIATION for c in (self.vs_prev, self.vs_avg))


def _change(value: float | None, base: float | None) -> float | None:
    """Relative change; ``None`` when there is no base to compare with (missing or zero)."""
    if value is None or base is None or base == 0:
        return None
    return (value - base) / abs(base)


@dataclass(frozen=True)
class CommunityFigures:
    chat_id: int
    title: str
    figures: list[Figure]
    sources: list[tuple[str, int]]
    members_reported: int | None
    welcome_waiting: int
    auto_answered: int
    escalated: int
    hooks_triggered: int

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


@dataclass(frozen=True)
class KpiReport:
    period: KpiPeriod
    timezone: str
    #: with a 7-day average to compare with (single days only)
    has_avg: bool
    communities: list[CommunityFigures]
    overall: list[Figure]
    #: the service desk's figures (private conversations opened in the period), against the
    #: period before: *desk_conversations*, *desk_automatic*, *desk_response_median*,
    #: *desk_response_p90*, *desk_within_sla*, *desk_resolution_median*, *desk_satisfaction*,
    #: *desk_ratings*
    desk: list[Figure] = field(default_factory=list)
    #: community order in the period (once moderation or complaint words are configured):
    #: moderation actions by kind (delete, warn, mute, ban, report…; join protection's
    #: captcha_pass, captcha_fail, decline, remove) and alerts by level
    #: (complaint, dispute, incident; an incident counted once) with how many were claimed
    #: and resolved
    order: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ChartSeries:
    days: list[date]
    joins: list[int]
    active: list[int]
    redemptions: list[int]


@dataclass(frozen=True)
class DailySeries:
    """Per local day over the communities (the dashboard's 30-day charts), by /kpi's rules:
    counts summed over the communities, the first response median pooled over them (minutes;
    ``None`` on a day nobody was answered), coupons from the global row."""

    days: list[date]
    series: dict[str, list[float | None]]


@dataclass
class _Day:
    """One community's (or the global row's) raw figures for one local day."""

    joins: int = 0
    leaves: int = 0
    messages: int = 0
    active: int = 0
    questions: int = 0
    auto: int = 0
    escalated: int = 0
    hooks: int = 0
    reactivated: int = 0
    silent: int | None = None
    members: int | None = None
    members_reported: int | None = None
    welcome: WelcomeCounts = field(default_factory=lambda: WelcomeCounts(0, 0, 0))
    response_times: list[int] = field(default_factory=list)
    fr_due: int = 0
    coupons_issued: int = 0
    coupons_redeemed: int = 0
    dm_sent: int = 0
    dm_blocked: int = 0


class KpiService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._repo = KpiRepository(session)
        self._config = config
        #: the raw days worked out in this transaction (the dashboard's overview asks for 30
        #: days and then today's report: the second is a slice of the first)
        self._raw: (
            tuple[tuple[int, ...], datetime, date, date, dict[int, dict[date, _Day]]] | None
        ) = None

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self._config.tz).date()

    async def report(
        self, period: KpiPeriod, now: datetime, communities: Sequence[CommunityChat] | None = None
    ) -> KpiReport:
        chats = list(communities) if communities is not None else list(self._config.communities)
        has_avg = period.days == 1
        prev = period.shifted(period.days)
        earliest = period.first - timedelta(days=7 if has_avg else period.days)
        days = await self._days([c.chat_id for c in chats], earliest, period.last, now)
        avg_days = [period.first - timedelta(days=n) for n in range(7, 0, -1)]
        sources = await self._repo.sources([c.chat_id for c in chats], period.first, period.last)
        rows = []
        for chat in chats:
            per_day = days[chat.chat_id]
            current = [per_day[d] for d in _span(period)]
            before = [per_day[d] for d in _span(prev)]
            average = [per_day[d] for d in avg_days] if has_avg else None
            rows.append(
                CommunityFigures(
                    chat_id=chat.chat_id,
                    title=chat.title,
                    figures=_community_figures(current, before, average, self._fr_sla),
                    sources=sources.get(chat.chat_id, [])[:TOP_SOURCES],
                    members_reported=next(
                        (
                            d.members_reported
                            for d in reversed(current)
                            if d.members_reported is not None
                        ),
                        None,
                    ),
                    welcome_waiting=sum(d.welcome.waiting for d in current),
                    auto_answered=sum(d.auto for d in current),
                    escalated=sum(d.escalated for d in current),
                    hooks_triggered=sum(d.hooks for d in current),
                )
            )
        overall = days[GLOBAL_CHAT]
        tz = self._config.tz
        desk = [
            await desk_figures(
                self._session, _day_start(p.first, tz), _day_start(p.last + timedelta(days=1), tz)
            )
            for p in (period, prev)
        ]
        return KpiReport(
            period=period,
            timezone=self._config.timezone,
            has_avg=has_avg,
            communities=rows,
            overall=_overall_figures(
                [overall[d] for d in _span(period)],
                [overall[d] for d in _span(prev)],
                [overall[d] for d in avg_days] if has_avg else None,
            ),
            desk=_desk_figures(*desk),
            order=await self._order(period),
        )

    async def _order(self, period: KpiPeriod) -> dict[str, int]:
        """Moderation actions and alerts of the period (issue 13), counted from their rows."""
        # no guard on the config: /cleanup's removals count without moderation configured
        tz = self._config.tz
        start = datetime.combine(period.first, time(0), tzinfo=tz)
        end = datetime.combine(period.last + timedelta(days=1), time(0), tzinfo=tz)
        counts = await ModActionRepository(self._session).counts(start, end)
        counts.update(await ModAlertRepository(self._session).counts(start, end))
        return counts

    async def series(
        self, first: date, last: date, communities: Sequence[CommunityChat] | None = None
    ) -> ChartSeries:
        """Joins and active members (over the communities) and redemptions per day."""
        chats = list(communities) if communities is not None else list(self._config.communities)
        ids = [c.chat_id for c in chats]
        rollups = await self._repo.rollups([*ids, GLOBAL_CHAT], first, last)
        span = list(_span(KpiPeriod("chart", first, last)))
        joins = dict.fromkeys(span, 0)
        active = dict.fromkeys(span, 0)
        redeemed = dict.fromkeys(span, 0)
        for row in rollups:
            if row.chat_id == GLOBAL_CHAT:
                redeemed[row.day] += row.coupons_redeemed
            else:
                joins[row.day] += row.joins
                active[row.day] += row.active_members
        return ChartSeries(
            days=span,
            joins=[joins[d] for d in span],
            active=[active[d] for d in span],
            redemptions=[redeemed[d] for d in span],
        )

    async def daily(
        self,
        first: date,
        last: date,
        now: datetime,
        communities: Sequence[CommunityChat] | None = None,
    ) -> DailySeries:
        """Joins, leaves, active members, messages, first response median, coupons issued and
        redeemed for each day ``first``..``last`` (:class:`DailySeries`)."""
        chats = list(communities) if communities is not None else list(self._config.communities)
        days = await self._days([c.chat_id for c in chats], first, last, now)
        span = _span(KpiPeriod("daily", first, last))
        series: dict[str, list[float | None]] = {key: [] for key in DAILY_KEYS}
        for d in span:
            each = [_measure([days[c.chat_id][d]], self._fr_sla, per_day=False) for c in chats]
            for key in ("joins", "leaves", "active", "messages"):
                series[key].append(sum(m[key].value or 0 for m in each))
            pooled = _measure([days[c.chat_id][d] for c in chats], self._fr_sla, per_day=False)
            series["response_median"].append(pooled["response_median"].value)
            series["coupons_issued"].append(days[GLOBAL_CHAT][d].coupons_issued)
            series["coupons_redeemed"].append(days[GLOBAL_CHAT][d].coupons_redeemed)
        return DailySeries(days=span, series=series)

    @property
    def _fr_sla(self) -> float:
        return self._config.first_response.within.total_seconds()

    async def _days(
        self, chat_ids: list[int], first: date, last: date, now: datetime
    ) -> dict[int, dict[date, _Day]]:
        """Raw figures of every community (and the global row) for each day first..last (a
        superset when a wider span was already worked out for the same chats and moment)."""
        if self._raw is not None:
            chats, at, from_day, to_day, known = self._raw
            if chats == tuple(chat_ids) and at == now and from_day <= first and last <= to_day:
                return known
        tz = self._config.tz
        span = list(_span(KpiPeriod("raw", first, last)))
        days = {chat: {d: _Day() for d in span} for chat in [*chat_ids, GLOBAL_CHAT]}
        for row in await self._repo.rollups([*chat_ids, GLOBAL_CHAT], first, last):
            _fill(days[row.chat_id][row.day], row)
        members = await self._repo.members_now(chat_ids)
        deltas = await self._repo.deltas_after(chat_ids, first)
        today = self.local_day(now)
        for chat in chat_ids:
            count = members.get(chat, 0)
            # walk back from today's count: the end of day D is the count less what came after
            later = sum(delta for (c, d), delta in deltas.items() if c == chat and d > last)
            running = count - later
            for d in reversed(span):
                days[chat][d].members = running if d <= today else None
                running -= deltas.get((chat, d), 0)
        # greetings and first responses: days over for a day come from kpi_days (worked out
        # once); the rest (today, yesterday, and a day not kept yet) from the ledger
        settled = today - timedelta(days=2)
        kept = await self._repo.settled_days(chat_ids, first, min(last, settled))
        within = self._config.welcome.within
        for chat in chat_ids:
            for d in span:
                done = kept.get((chat, d))
                if done is not None:
                    days[chat][d].welcome = WelcomeCounts(done.welcome_due, done.welcome_in_time, 0)
                    days[chat][d].response_times = [int(t) for t in done.response_times]
                    days[chat][d].fr_due = done.questions_due
            live = [d for d in span if (chat, d) not in kept]
            if not live:
                continue
            live_span = _span(KpiPeriod("live", live[0], live[-1]))
            bounds = [_day_start(d, tz) for d in live_span] + [
                _day_start(live[-1] + timedelta(days=1), tz)
            ]
            greeted = await self._repo.welcome(chat, bounds, within, now)
            asked = await self._repo.questions(chat, bounds, now)
            for d, counts, questions in zip(live_span, greeted, asked, strict=True):
                if (chat, d) in kept:
                    continue
                day = days[chat][d]
                day.welcome, day.response_times, day.fr_due = (
                    counts,
                    questions.response_times,
                    questions.due,
                )
                if d <= settled:
                    await self._repo.settle_day(chat, d, counts, questions, now)
        self._raw = (tuple(chat_ids), now, first, last, days)
        return days


def _fill(day: _Day, row: DailyRollup) -> None:
    day.joins, day.leaves, day.messages = row.joins, row.leaves, row.messages
    day.active, day.questions = row.active_members, row.questions
    day.auto, day.escalated, day.hooks = row.auto_answered, row.escalated, row.hooks_triggered
    day.members_reported = row.members_reported
    day.coupons_issued, day.coupons_redeemed = row.coupons_issued, row.coupons_redeemed
    day.dm_sent, day.dm_blocked = row.dm_sent, row.dm_blocked
    day.reactivated, day.silent = row.reactivated, row.silent_members


def _span(period: KpiPeriod) -> list[date]:
    return [period.first + timedelta(days=n) for n in range(period.days)]


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


@dataclass(frozen=True)
class _Measured:
    value: float | None
    detail: str | None = None


def _measure(days: list[_Day], sla: float, *, per_day: bool) -> dict[str, _Measured]:
    """The figures over ``days``: totals (or, ``per_day``, daily means) of counters, the last
    day's snapshots (or their mean), shares pooled over the days, the pooled median."""
    n = len(days) if per_day else 1

    def total(name: str) -> _Measured:
        return _Measured(sum(getattr(d, name) for d in days) / n)

    def snapshot(name: str) -> _Measured:
        values = [getattr(d, name) for d in days if getattr(d, name) is not None]
        if not values:
            return _Measured(None)
        return _Measured(sum(values) / len(values) if per_day else values[-1])

    times = sorted(t for d in days for t in d.response_times)
    fr_due = sum(d.fr_due for d in days)
    within = sum(1 for t in times if t <= sla)
    w_due = sum(d.welcome.due for d in days)
    w_in = sum(d.welcome.in_time for d in days)
    median = percentile(times, 0.5)
    p90 = percentile(times, 0.9)
    return {
        "members": snapshot("members"),
        "joins": total("joins"),
        "leaves": total("leaves"),
        "net": _Measured((sum(d.joins for d in days) - sum(d.leaves for d in days)) / n),
        "active": _Measured(sum(d.active for d in days) / len(days)) if days else _Measured(None),
        "messages": total("messages"),
        "questions": total("questions"),
        "response_median": _Measured(None if median is None else median / 60),
        "response_p90": _Measured(None if p90 is None else p90 / 60),
        "response_within": _Measured(within / fr_due if fr_due else None, f"{within}/{fr_due}"),
        "welcome_sla": _Measured(w_in / w_due if w_due else None, f"{w_in}/{w_due}"),
        "silent": snapshot("silent"),
        "reactivated": total("reactivated"),
    }


_COMMUNITY_FIGURES = (
    ("members", "count"),
    ("joins", "count"),
    ("leaves", "count"),
    ("net", "signed"),
    ("active", "count"),
    ("messages", "count"),
    ("questions", "count"),
    ("response_median", "minutes"),
    ("response_p90", "minutes"),
    ("response_within", "share"),
    ("welcome_sla", "share"),
    ("silent", "count"),
    ("reactivated", "count"),
)


def _community_figures(
    current: list[_Day], before: list[_Day], average: list[_Day] | None, sla: float
) -> list[Figure]:
    now = _measure(current, sla, per_day=False)
    prev = _measure(before, sla, per_day=False)
    avg = _measure(average, sla, per_day=True) if average is not None else None
    return [
        Figure(
            key,
            now[key].value,
            prev[key].value,
            avg[key].value if avg else None,
            unit,
            now[key].detail if unit == "share" else None,
        )
        for key, unit in _COMMUNITY_FIGURES
    ]


def _overall_figures(
    current: list[_Day], before: list[_Day], average: list[_Day] | None
) -> list[Figure]:
    def measure(days: list[_Day], n: int) -> dict[str, float | None]:
        issued = sum(d.coupons_issued for d in days)
        redeemed = sum(d.coupons_redeemed for d in days)
        return {
            "coupons_issued": issued / n,
            "coupons_redeemed": redeemed / n,
            "redemption_rate": redeemed / issued if issued else None,
            "dm_sent": sum(d.dm_sent for d in days) / n,
            "dm_blocked": sum(d.dm_blocked for d in days) / n,
        }

    now, prev = measure(current, 1), measure(before, 1)
    avg = measure(average, len(average)) if average else None
    units = {"redemption_rate": "share"}
    return [
        Figure(key, now[key], prev[key], avg[key] if avg else None, units.get(key, "count"))
        for key in (
            "coupons_issued",
            "coupons_redeemed",
            "redemption_rate",
            "dm_sent",
            "dm_blocked",
        )
    ]


def _desk_figures(now: DeskPeriodFigures, before: DeskPeriodFigures) -> list[Figure]:
    def minutes(seconds: int | None) -> float | None:
        return None if seconds is None else seconds / 60

    def share(f: DeskPeriodFigures) -> float | None:
        return f.within_sla / f.answered if f.answered else None

    return [
        Figure("desk_conversations", now.conversations, before.conversations),
        Figure("desk_automatic", now.automatic, before.automatic),
        Figure(
            "desk_response_median",
            minutes(now.response_median),
            minutes(before.response_median),
            unit="minutes",
        ),
        Figure(
            "desk_response_p90",
            minutes(now.response_p90),
            minutes(before.response_p90),
            unit="minutes",
        ),
        Figure(
            "desk_within_sla",
            share(now),
            share(before),
            unit="share",
            detail=f"{now.within_sla}/{now.answered}",
        ),
        Figure(
            "desk_resolution_median",
            minutes(now.resolution_median),
            minutes(before.resolution_median),
            unit="minutes",
        ),
        Figure("desk_satisfaction", now.rating_avg, before.rating_avg, unit="score"),
        Figure("desk_ratings", now.ratings, before.ratings),
    ]
