"""Broadcasts and their recipients: set-based materialisation, chunked hand-over to the outbox,
settling, cancelling, and the summaries reports read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Coupon, Member, OutboxMessage
from bot.db.models.broadcast import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientStatus,
)
from bot.db.models.outbox import ChatKind, OutboxStatus, Purpose
from bot.db.upsert import insert_for

#: a 31-bit prime: the A/B split mixes user id and seed below it (no 64-bit overflow)
_PRIME = 2147483629


def recipient_key(broadcast_id: int, user_id: int) -> str:
    """The outbox key of one member's copy of one broadcast (unique: never sent twice)."""
    return f"bc:{broadcast_id}:{user_id}"


def card_key(broadcast_id: int, stage: str) -> str:
    """The outbox key of a broadcast's card (the operator's message with its buttons)."""
    return f"bc:{broadcast_id}:card:{stage}"


def card_of(key: str) -> int | None:
    """The broadcast whose card the outbox row under ``key`` is, if it is one."""
    match = _CARD_KEY.match(key)
    return int(match.group(1)) if match else None


_CARD_KEY = re.compile(r"^bc:(\d{1,18}):card:")


_TALLIED = (
    RecipientStatus.WAITING,
    RecipientStatus.QUEUED,
    RecipientStatus.SENT,
    RecipientStatus.BLOCKED,
    RecipientStatus.FAILED,
    RecipientStatus.DROPPED,
)


@dataclass(frozen=True)
class Tally:
    """Recipients of one broadcast by state."""

    waiting: int = 0
    queued: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    dropped: int = 0

    @property
    def total(self) -> int:
        return self.waiting + self.queued + self.sent + self.blocked + self.failed + self.dropped

    @property
    def pending(self) -> int:
        return self.waiting + self.queued

    @property
    def settled(self) -> int:
        return self.sent + self.blocked + self.failed + self.dropped

    def state(self) -> str:
        return (
            f"{self.waiting}/{self.queued}/{self.sent}/{self.blocked}/{self.failed}/{self.dropped}"
        )


@dataclass(frozen=True)
class BroadcastSummary:
    id: int
    segment: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    audience: int
    sent: int
    blocked: int
    failed: int
    dropped: int
    ab: bool


@dataclass(frozen=True)
class Chunk:
    """Recipients about to be handed to the outbox."""

    user_id: int
    variant: str
    language_code: str | None
    first_name: str


@dataclass(frozen=True)
class VariantResult:
    variant: str
    recipients: int
    delivered: int
    replied: int
    redeemed: int


class BroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- drafts ---------------------------------------------------------------------------------
    async def create(self, **fields: Any) -> Broadcast:
        broadcast = Broadcast(
            status=BroadcastStatus.DRAFT, ab=False, seed=0, audience=0, progress_edits=0, **fields
        )
        self._session.add(broadcast)
        await self._session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self._session.get(Broadcast, broadcast_id, populate_existing=True)

    async def lock(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast, its row locked until the transaction ends (PostgreSQL): two presses
        of Send, or Send and Cancel at once, are taken one after the other."""
        result = await self._session.execute(
            select(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def open_ab_draft(self, chat_id: int, created_by: int) -> Broadcast | None:
        """The operator's latest A/B draft in this chat still waiting for its variant B."""
        result = await self._session.execute(
            select(Broadcast)
            .where(
                Broadcast.chat_id == chat_id,
                Broadcast.created_by == created_by,
                Broadcast.status == BroadcastStatus.DRAFT,
                Broadcast.ab.is_(True),
            )
            .order_by(Broadcast.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    # -- audience -------------------------------------------------------------------------------
    @staticmethod
    def reachable(segment: Select[Any]) -> Select[Any]:
        """The segment's members the bot may DM (started it, not blocked)."""
        ids = segment.subquery()
        return (
            select(Member.user_id)
            .join(ids, ids.c.user_id == Member.user_id)
            .where(Member.dm_allowed.is_(True), Member.unreachable_at.is_(None))
        )

    async def audience(self, segment: Select[Any]) -> int:
        subquery = self.reachable(segment).subquery()
        return int(
            (await self._session.execute(select(func.count()).select_from(subquery))).scalar_one()
        )

    async def materialise(self, broadcast: Broadcast, segment: Select[Any]) -> int:
        """``INSERT … SELECT`` of the reachable segment members as recipients, each with its
        variant (A/B: a reproducible split by the broadcast's seed); returns how many."""
        mixed: Any = Member.user_id % _PRIME
        for _ in range(3):  # x → x² + seed (mod p): consecutive ids land apart
            mixed = (mixed * mixed + broadcast.seed) % _PRIME
        variant: Any = literal("a")
        if broadcast.ab:
            variant = case((mixed % 2 == 1, "b"), else_="a")
        source = self.reachable(segment).with_only_columns(
            literal(broadcast.id).label("broadcast_id"),
            Member.user_id,
            variant.label("variant"),
            literal(RecipientStatus.WAITING, String).label("status"),
        )
        stmt = (
            insert_for(self._session, BroadcastRecipient)
            .from_select(
                ["broadcast_id", "user_id", "variant", "status"],
                source,
            )
            .on_conflict_do_nothing(index_elements=["broadcast_id", "user_id"])
        )
        await self._session.execute(stmt)
        return await self._count(broadcast.id)

    async def _count(self, broadcast_id: int) -> int:
        return int(
            (
                await self._session.execute(
                    select(func.count()).where(BroadcastRecipient.broadcast_id == broadcast_id)
                )
            ).scalar_one()
        )

    # -- sending --------------------------------------------------------------------------------
    async def active(self) -> Sequence[Broadcast]:
        """Broadcasts sending, or cancelled with copies still in flight."""
        result = await self._session.execute(
            select(Broadcast)
            .where(
                Broadcast.status.in_((BroadcastStatus.SENDING, BroadcastStatus.CANCELLED)),
                Broadcast.started_at.is_not(None),
                Broadcast.finished_at.is_(None),
            )
            .order_by(Broadcast.id)
            .execution_options(populate_existing=True)
        )
        return result.scalars().all()

    async def next_chunk(self, broadcast_id: int, limit: int) -> list[Chunk]:
        result = await self._session.execute(
            select(
                BroadcastRecipient.user_id,
                BroadcastRecipient.variant,
                Member.language_code,
                Member.first_name,
            )
            .join(Member, Member.user_id == BroadcastRecipient.user_id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == RecipientStatus.WAITING,
            )
            .limit(limit)
        )  # in no order: read straight off the (broadcast, status) index
        return [Chunk(int(r[0]), str(r[1]), r[2], str(r[3] or "")) for r in result.all()]

    async def enqueue(self, broadcast_id: int, rows: list[dict[str, Any]], now: datetime) -> None:
        """Hands recipients to the outbox, one row each under its unique key, and marks them
        queued, in the caller's transaction: a crash leaves both or neither."""
        if not rows:
            return
        values = [
            {
                "key": recipient_key(broadcast_id, row["user_id"]),
                "chat_id": row["user_id"],
                "chat_kind": ChatKind.PRIVATE,
                "purpose": Purpose.BROADCAST,
                "method": row["method"],
                "payload": row["payload"],
                "status": OutboxStatus.PENDING,
                "due_at": now,
                "attempts": 0,
                "created_at": now,
            }
            for row in rows
        ]
        await self._session.execute(
            insert_for(self._session, OutboxMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await self._session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.user_id.in_([row["user_id"] for row in rows]),
                BroadcastRecipient.status == RecipientStatus.WAITING,
            )
            .values(status=RecipientStatus.QUEUED)
        )

    async def place_card(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Where Telegram put the broadcast's card: its buttons count there only."""
        await self._session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(card_chat_id=chat_id, card_message_id=message_id)
        )

    async def settle(
        self,
        broadcast_id: int,
        user_id: int,
        status: RecipientStatus,
        now: datetime,
        *,
        was: RecipientStatus = RecipientStatus.QUEUED,
    ) -> None:
        await self._session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.user_id == user_id,
                BroadcastRecipient.status == was,
            )
            .values(status=status, settled_at=now)
        )

    def _own_key(self, broadcast_id: int) -> Any:
        return literal(f"bc:{broadcast_id}:") + cast(BroadcastRecipient.user_id, String)

    async def reconcile(self, broadcast_id: int, now: datetime) -> None:
        """Queued recipients whose outbox row failed without telling (the delivery loop drops
        every row queued for a member it found unreachable): their key was set free."""
        row_exists = exists().where(OutboxMessage.key == self._own_key(broadcast_id))
        blocked = exists().where(
            Member.user_id == BroadcastRecipient.user_id, Member.unreachable_at.is_not(None)
        )
        await self._session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == RecipientStatus.QUEUED,
                ~row_exists,
            )
            .values(
                status=case(
                    (blocked, literal(RecipientStatus.BLOCKED, String)),
                    else_=literal(RecipientStatus.FAILED, String),
                ),
                settled_at=now,
            )
            .execution_options(synchronize_session=False)
        )

    async def tally(self, broadcast_id: int) -> Tally:
        return (await self.tallies([broadcast_id]))[broadcast_id]

    async def tallies(self, broadcast_ids: Sequence[int]) -> dict[int, Tally]:
        """The tally of each broadcast, in one statement."""
        result = await self._session.execute(
            select(BroadcastRecipient.broadcast_id, BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id.in_(list(broadcast_ids)))
            .group_by(BroadcastRecipient.broadcast_id, BroadcastRecipient.status)
        )
        counts: dict[int, dict[str, int]] = {int(b): {} for b in broadcast_ids}
        for broadcast_id, status, n in result.all():
            counts[int(broadcast_id)][str(status)] = int(n)
        return {
            b: Tally(**{str(name): found.get(name, 0) for name in _TALLIED})
            for b, found in counts.items()
        }

    async def drop_pending(self, broadcast_id: int, now: datetime) -> int:
        """Cancel: recipients not handed over yet, and copies still pending in the outbox,
        are dropped; copies the sender already holds go (and are counted as they settle)."""
        waiting = await self._session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == RecipientStatus.WAITING,
            )
            .values(status=RecipientStatus.DROPPED, settled_at=now)
        )
        queued_keys = select(self._own_key(broadcast_id)).where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.status == RecipientStatus.QUEUED,
        )
        dropped = (
            (
                await self._session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.key.in_(queued_keys),
                        OutboxMessage.status == OutboxStatus.PENDING,
                    )
                    .values(status=OutboxStatus.FAILED, last_error="broadcast cancelled")
                    .returning(OutboxMessage.chat_id)
                    .execution_options(synchronize_session=False)
                )
            )
            .scalars()
            .all()
        )
        if dropped:
            await self._session.execute(
                update(BroadcastRecipient)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.user_id.in_(list(dropped)),
                    BroadcastRecipient.status == RecipientStatus.QUEUED,
                )
                .values(status=RecipientStatus.DROPPED, settled_at=now)
            )
        return int(waiting.rowcount or 0) + len(dropped)  # type: ignore[attr-defined]

    async def note_reply(self, user_id: int, now: datetime, window: timedelta) -> None:
        """A recipient wrote to the bot: a reply to each A/B broadcast they got whose window
        is open (community messages are read from the member's last-seen time)."""
        open_ab = select(Broadcast.id).where(
            Broadcast.ab.is_(True),
            Broadcast.reported_at.is_(None),
            Broadcast.started_at >= now - window,
        )
        await self._session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id.in_(open_ab),
                BroadcastRecipient.user_id == user_id,
                BroadcastRecipient.status == RecipientStatus.SENT,
                BroadcastRecipient.replied_at.is_(None),
                BroadcastRecipient.settled_at <= now,
            )
            .values(replied_at=now)
            .execution_options(synchronize_session=False)
        )

    # -- reading --------------------------------------------------------------------------------
    async def reports_due(self, now: datetime) -> Sequence[Broadcast]:
        result = await self._session.execute(
            select(Broadcast)
            .where(
                Broadcast.ab.is_(True),
                Broadcast.report_due_at <= now,
                Broadcast.reported_at.is_(None),
            )
            .order_by(Broadcast.id)
        )
        return result.scalars().all()

    async def variant_results(self, broadcast: Broadcast, until: datetime) -> list[VariantResult]:
        """Per variant: recipients, delivered, replied (spoke to the bot or in a community after
        their copy arrived, up to ``until``), coupons redeemed between the start and ``until``."""
        start = broadcast.started_at or broadcast.created_at
        recipient = BroadcastRecipient
        replied = and_(
            recipient.status == RecipientStatus.SENT,
            or_(
                recipient.replied_at.is_not(None),
                and_(Member.last_seen_at > recipient.settled_at, Member.last_seen_at <= until),
            ),
        )
        redeemed = (
            select(func.count(Coupon.id))
            .where(
                Coupon.user_id == recipient.user_id,
                Coupon.redeemed_at >= start,
                Coupon.redeemed_at < until,
            )
            .correlate(recipient)
            .scalar_subquery()
        )
        result = await self._session.execute(
            select(
                recipient.variant,
                func.count(),
                func.sum(case((recipient.status == RecipientStatus.SENT, 1), else_=0)),
                func.sum(case((replied, 1), else_=0)),
                func.sum(redeemed),
            )
            .join(Member, Member.user_id == recipient.user_id)
            .where(recipient.broadcast_id == broadcast.id)
            .group_by(recipient.variant)
            .order_by(recipient.variant)
        )
        found = {
            str(r[0]): VariantResult(
                str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)
            )
            for r in result.all()
        }
        return [found.get(v, VariantResult(v, 0, 0, 0, 0)) for v in ("a", "b")]

    async def finished_between(self, start: datetime, end: datetime) -> list[BroadcastSummary]:
        """Broadcasts that finished (done or cancelled) in ``[start, end)``, oldest first."""
        result = await self._session.execute(
            select(Broadcast)
            .where(
                Broadcast.finished_at >= start,
                Broadcast.finished_at < end,
                Broadcast.status.in_((BroadcastStatus.DONE, BroadcastStatus.CANCELLED)),
            )
            .order_by(Broadcast.finished_at, Broadcast.id)
        )
        return [await self._summary(b) for b in result.scalars().all()]

    async def stuck(self, now: datetime, older_than: timedelta) -> list[BroadcastSummary]:
        """Broadcasts still sending whose last progress (a recipient queued or settled) is
        older than ``older_than``."""
        last = func.coalesce(Broadcast.progressed_at, Broadcast.started_at)
        result = await self._session.execute(
            select(Broadcast)
            .where(
                Broadcast.status == BroadcastStatus.SENDING,
                Broadcast.finished_at.is_(None),
                last < now - older_than,
            )
            .order_by(Broadcast.id)
        )
        return [await self._summary(b) for b in result.scalars().all()]

    async def _summary(self, broadcast: Broadcast) -> BroadcastSummary:
        tally = await self.tally(broadcast.id)
        return BroadcastSummary(
            broadcast.id,
            broadcast.segment,
            broadcast.status,
            broadcast.started_at,
            broadcast.finished_at,
            broadcast.audience,
            tally.sent,
            tally.blocked,
            tally.failed,
            tally.dropped,
            broadcast.ab,
        )
