"""Broadcasts for the dashboard: the history (newest first, a page at a time), each with the
progress figures its card shows in the chat (``progress_context``: state, percent, ETA) and,
for an A/B broadcast, the variants' results as the A/B report counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcast import Broadcast, BroadcastStatus
from bot.db.repositories.broadcasts import BroadcastRepository, Tally, VariantResult
from bot.services.broadcasts.view import progress_context

PER_PAGE = 20


@dataclass(frozen=True)
class BroadcastLine:
    id: int
    segment: str
    #: draft, sending, cancelling, done, cancelled
    state: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    audience: int
    tally: Tally
    percent: int
    #: "1m05s" until the pending copies are settled; "" when none are
    eta: str
    ab: bool
    promotional: bool
    #: A/B: variants a and b (replies and redemptions up to the report, or until now)
    variants: list[VariantResult]


@dataclass(frozen=True)
class BroadcastPage:
    rows: list[BroadcastLine]
    page: int
    has_more: bool


class BroadcastsQuery:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._repo = BroadcastRepository(session)

    async def page(self, now: datetime, page: int = 1) -> BroadcastPage:
        page = max(1, page)
        result = await self._session.execute(
            select(Broadcast)
            .order_by(Broadcast.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
        found = list(result.scalars().all())
        return BroadcastPage(
            [await self._line(b, now) for b in found[:PER_PAGE]], page, len(found) > PER_PAGE
        )

    async def one(self, broadcast_id: int, now: datetime) -> BroadcastLine | None:
        broadcast = await self._repo.get(broadcast_id)
        return None if broadcast is None else await self._line(broadcast, now)

    async def _line(self, broadcast: Broadcast, now: datetime) -> BroadcastLine:
        tally = await self._repo.tally(broadcast.id)
        if broadcast.status == BroadcastStatus.DRAFT:
            state, percent, eta = "draft", 0, ""
        else:
            progress = progress_context(broadcast, tally, now)
            state, percent, eta = progress["state"], progress["percent"], progress["eta"]
        variants: list[VariantResult] = []
        if broadcast.ab and broadcast.started_at is not None:
            until = min(broadcast.report_due_at or now, now)
            variants = await self._repo.variant_results(broadcast, until)
        return BroadcastLine(
            id=broadcast.id,
            segment=broadcast.segment,
            state=state,
            created_at=broadcast.created_at,
            started_at=broadcast.started_at,
            finished_at=broadcast.finished_at,
            audience=broadcast.audience,
            tally=tally,
            percent=percent,
            eta=eta,
            ab=broadcast.ab,
            promotional=broadcast.promotional,
            variants=variants,
        )
