"""Broadcasts for the dashboard: the history (newest first, a page at a time), each with the
progress figures its card shows in the chat (``progress_context``: state, percent, ETA); one
broadcast with, for an A/B broadcast, the variants' results as the A/B report counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcast import Broadcast, BroadcastStatus
from bot.db.repositories.broadcasts import BroadcastRepository, Tally, VariantResult
from bot.services.broadcasts.view import progress_context

#: a page of the history (each one's tally is a count over its recipients)
PER_PAGE = 10


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
    #: A/B: variants a and b (only on ``one``: the history leaves them out)
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
        found = list(result.scalars().all())[: PER_PAGE + 1]
        shown = found[:PER_PAGE]
        tallies = await self._repo.tallies([b.id for b in shown])
        return BroadcastPage(
            [self._line(b, tallies[b.id], now, []) for b in shown], page, len(found) > PER_PAGE
        )

    async def one(self, broadcast_id: int, now: datetime) -> BroadcastLine | None:
        """One broadcast with, for an A/B one, its variants' results (replies and redemptions
        up to the report, or until now)."""
        broadcast = await self._repo.get(broadcast_id)
        if broadcast is None:
            return None
        variants: list[VariantResult] = []
        if broadcast.ab and broadcast.started_at is not None:
            until = min(broadcast.report_due_at or now, now)
            variants = await self._repo.variant_results(broadcast, until)
        return self._line(broadcast, await self._repo.tally(broadcast.id), now, variants)

    def _line(
        self, broadcast: Broadcast, tally: Tally, now: datetime, variants: list[VariantResult]
    ) -> BroadcastLine:
        if broadcast.status == BroadcastStatus.DRAFT:
            state, percent, eta = "draft", 0, ""
        else:
            progress = progress_context(broadcast, tally, now)
            state, percent, eta = progress["state"], progress["percent"], progress["eta"]
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
