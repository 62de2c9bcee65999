"""The desk's figures for ``/kpi``, the daily report and ``/export kpi``: conversations opened in
a period, how many the FAQ answered, first response (median and p90, office time), the share
answered within the SLA, resolution time, satisfaction. Exact: worked out from the period's
tickets (ids, times and ratings only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories.desk import DeskRepository


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile of ``values`` (any order); ``None`` for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass(frozen=True)
class DeskPeriodFigures:
    conversations: int
    automatic: int
    answered: int
    within_sla: int
    response_median: int | None  # seconds
    response_p90: int | None
    resolution_median: int | None
    rating_avg: float | None
    ratings: int


async def desk_figures(session: AsyncSession, start: datetime, end: datetime) -> DeskPeriodFigures:
    raw = await DeskRepository(session).figures(start, end)
    return DeskPeriodFigures(
        conversations=raw.conversations,
        automatic=raw.automatic,
        answered=raw.answered,
        within_sla=raw.within_sla,
        response_median=percentile(raw.response_seconds, 0.5),
        response_p90=percentile(raw.response_seconds, 0.9),
        resolution_median=percentile(raw.resolution_seconds, 0.5),
        rating_avg=sum(raw.ratings) / len(raw.ratings) if raw.ratings else None,
        ratings=len(raw.ratings),
    )
