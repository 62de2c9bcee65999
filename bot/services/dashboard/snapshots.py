"""Figures that grow with the members, worked out ahead: the sources funnel and campaign
conversion (one aggregate over every member or code of the period, seconds at 1,000,000
members) are kept as snapshots. A page shows a snapshot under ``FRESH`` old, else works the
figures out (the same read model) and keeps them; the dashboard's loop works out again, every
``REFRESH_EVERY``, what an operator looked at within ``WATCHED`` — so pages answer from a row
and nobody's figures are older than ``FRESH``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories.coupons import ConversionRow
from bot.db.repositories.snapshots import SnapshotRepository
from bot.services.dashboard.coupons import CampaignConversion, CouponsQuery, CouponsReport
from bot.services.dashboard.sources import (
    Retention,
    SourceFunnel,
    SourcesQuery,
    SourcesReport,
)

FRESH = timedelta(minutes=10)
REFRESH_EVERY = timedelta(minutes=5)
WATCHED = timedelta(hours=1)
#: a read is noted at most this often (a page view is not a write each time)
NOTE_READ = timedelta(minutes=5)


T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    figures: T
    computed_at: datetime


def _funnel_out(f: SourceFunnel) -> dict[str, Any]:
    steps = [f.joined, f.started, f.gifted, f.redeemed, f.ordered]
    return {
        "source": f.source,
        "steps": steps,
        "retention": [[r.days, r.eligible, r.active] for r in f.retention],
    }


def _funnel_in(d: dict[str, Any]) -> SourceFunnel:
    retention = tuple(Retention(int(n), int(e), int(a)) for n, e, a in d["retention"])
    joined, started, gifted, redeemed, ordered = (int(n) for n in d["steps"])
    return SourceFunnel(str(d["source"]), joined, started, gifted, redeemed, ordered, retention)


def sources_out(report: SourcesReport) -> dict[str, Any]:
    return {
        "first": report.first.isoformat(),
        "last": report.last.isoformat(),
        "sources": [_funnel_out(f) for f in report.sources],
        "total": _funnel_out(report.total),
    }


def sources_in(d: dict[str, Any]) -> SourcesReport:
    return SourcesReport(
        date.fromisoformat(d["first"]),
        date.fromisoformat(d["last"]),
        [_funnel_in(f) for f in d["sources"]],
        _funnel_in(d["total"]),
    )


def coupons_out(report: CouponsReport) -> dict[str, Any]:
    return {
        "days": report.days,
        "campaigns": [
            {
                "campaign": c.campaign,
                "title": c.title,
                "issued": c.issued,
                "redeemed": c.redeemed,
                "sources": [[r.source, r.issued, r.redeemed] for r in c.sources],
            }
            for c in report.campaigns
        ],
    }


def coupons_in(d: dict[str, Any]) -> CouponsReport:
    return CouponsReport(
        d["days"],
        [
            CampaignConversion(
                c["campaign"],
                c["title"],
                int(c["issued"]),
                int(c["redeemed"]),
                [ConversionRow(c["campaign"], s, int(i), int(r)) for s, i, r in c["sources"]],
            )
            for c in d["campaigns"]
        ],
    )


class Snapshots:
    def __init__(self, session: AsyncSession, sources: SourcesQuery, coupons: CouponsQuery) -> None:
        self._repo = SnapshotRepository(session)
        self._sources = sources
        self._coupons = coupons

    async def sources(self, days: int, now: datetime) -> Snapshot[SourcesReport]:
        payload, at = await self._read(f"sources:{days}", now)
        return Snapshot(sources_in(payload), at)

    async def coupons(self, days: int, now: datetime) -> Snapshot[CouponsReport]:
        payload, at = await self._read(f"coupons:{days}", now)
        return Snapshot(coupons_in(payload), at)

    async def refresh(self, now: datetime) -> int:
        """The loop's step: what operators looked at lately, worked out again."""
        keys = await self._repo.watched(now - WATCHED, now - REFRESH_EVERY)
        for key in keys:
            await self._repo.put(key, await self._compute(key, now), now)
        return len(keys)

    async def _read(self, key: str, now: datetime) -> tuple[dict[str, Any], datetime]:
        kept = await self._repo.get(key)
        if kept is not None and now - kept.computed_at < FRESH:
            if now - kept.read_at >= NOTE_READ:
                await self._repo.mark_read(key, now)
            return kept.payload, kept.computed_at
        payload = await self._compute(key, now)
        await self._repo.put(key, payload, now)
        return payload, now

    async def _compute(self, key: str, now: datetime) -> dict[str, Any]:
        kind, _, days = key.partition(":")
        if kind == "sources":
            return sources_out(await self._sources.funnel(int(days), now))
        return coupons_out(await self._coupons.conversion(int(days), now))
