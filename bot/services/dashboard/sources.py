"""The funnel by member source: joined → started the bot → got the gift → redeemed → ordered,
and how many of each source's joiners were still active 7 and 30 days after they arrived.

One aggregate statement over the members first seen in the period (the funnel's steps are the
columns the ledger, the welcome and the orders already keep); nothing is loaded per member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Coupon, Member, Order
from bot.db.repositories.kpi import seconds_between

#: a member without a recorded source
UNKNOWN = "unknown"
#: the days after arrival at which a joiner is looked at again
RETENTION_DAYS = (7, 30)
#: how many days back the page may look
MOST_DAYS = 366


@dataclass(frozen=True)
class Retention:
    """Of the joiners who arrived at least ``days`` ago (``eligible``), how many spoke in a
    community ``days`` or more after they arrived (``active``)."""

    days: int
    eligible: int
    active: int

    @property
    def rate(self) -> float | None:
        return self.active / self.eligible if self.eligible else None


@dataclass(frozen=True)
class SourceFunnel:
    source: str
    joined: int
    started: int
    gifted: int
    redeemed: int
    ordered: int
    retention: tuple[Retention, ...]

    def steps(self) -> list[tuple[str, int]]:
        return [
            ("joined", self.joined),
            ("started", self.started),
            ("gifted", self.gifted),
            ("redeemed", self.redeemed),
            ("ordered", self.ordered),
        ]

    def retained(self, days: int) -> Retention:
        return next(r for r in self.retention if r.days == days)


@dataclass(frozen=True)
class SourcesReport:
    first: date
    last: date
    sources: list[SourceFunnel]
    total: SourceFunnel


class SourcesQuery:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    async def funnel(self, days: int, now: datetime) -> SourcesReport:
        """Members first seen in the last ``days`` local days (today included), by source,
        most joiners first."""
        days = max(1, min(days, MOST_DAYS))
        tz = self._config.tz
        last = now.astimezone(tz).date()
        first = last - timedelta(days=days - 1)
        start = datetime.combine(first, time(), tzinfo=tz)
        source = func.coalesce(Member.source, UNKNOWN)
        redeemed = exists().where(Coupon.user_id == Member.user_id, Coupon.redeemed_at.is_not(None))
        ordered = exists().where(Order.user_id == Member.user_id)
        columns: list[ColumnElement[Any]] = [
            source,
            func.count(),
            func.count(Member.started_at),
            func.count(Member.gift_sent_at),
            func.sum(case((redeemed, 1), else_=0)),
            func.sum(case((ordered, 1), else_=0)),
        ]
        stayed = seconds_between(self._session, Member.first_seen_at, Member.last_seen_at)
        for n in RETENTION_DAYS:
            eligible = Member.first_seen_at <= now - timedelta(days=n)
            columns.append(func.sum(case((eligible, 1), else_=0)))
            columns.append(func.sum(case(((eligible & (stayed >= n * 86400)), 1), else_=0)))
        result = await self._session.execute(
            select(*columns)
            .where(Member.first_seen_at >= start, Member.first_seen_at <= now)
            .group_by(source)
        )
        rows = [_funnel(row) for row in result.all()]
        rows.sort(key=lambda f: (-f.joined, f.source))
        return SourcesReport(first, last, rows, _total(rows))


def _funnel(row: Any) -> SourceFunnel:
    counts = [int(value or 0) for value in row[1:]]
    retention = tuple(
        Retention(n, counts[5 + 2 * i], counts[6 + 2 * i]) for i, n in enumerate(RETENTION_DAYS)
    )
    joined, started, gifted, redeemed, ordered = counts[:5]
    return SourceFunnel(str(row[0]), joined, started, gifted, redeemed, ordered, retention)


def _total(rows: list[SourceFunnel]) -> SourceFunnel:
    return SourceFunnel(
        "",
        sum(r.joined for r in rows),
        sum(r.started for r in rows),
        sum(r.gifted for r in rows),
        sum(r.redeemed for r in rows),
        sum(r.ordered for r in rows),
        tuple(
            Retention(
                n,
                sum(r.retained(n).eligible for r in rows),
                sum(r.retained(n).active for r in rows),
            )
            for n in RETENTION_DAYS
        ),
    )
