"""Report runs and alert states: each claimed by one atomic statement, so two instances (or a
restart) never send the same report or alert twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, distinct, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AlertState,
    Coupon,
    Member,
    Membership,
    OutboxMessage,
    Question,
    QuestionStatus,
    ReportRun,
    SopRun,
)
from bot.db.models.outbox import OutboxStatus
from bot.db.repositories.kpi import UNREACHABLE_MARKERS
from bot.db.upsert import insert_for


class ReportRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, kind: str, period: date, now: datetime) -> bool:
        """``True`` for the one caller that gets to send this report."""
        stmt = insert_for(self._session, ReportRun).values(kind=kind, period=period, sent_at=now)
        result = await self._session.execute(
            stmt.on_conflict_do_nothing(index_elements=["kind", "period"]).returning(ReportRun.id)
        )
        return result.scalar_one_or_none() is not None


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def raise_(self, key: str, kind: str, now: datetime, repeat_after: timedelta) -> bool:
        """``True`` when this call raises the alert (then it is sent): the first time, or again
        once it had cleared and ``repeat_after`` passed since it was last raised."""
        key = key[:160]
        stmt = insert_for(self._session, AlertState).values(key=key, kind=kind, raised_at=now)
        created = await self._session.execute(
            stmt.on_conflict_do_nothing(index_elements=["key"]).returning(AlertState.key)
        )
        if created.scalar_one_or_none() is not None:
            return True
        again = await self._session.execute(
            update(AlertState)
            .where(
                AlertState.key == key,
                AlertState.cleared_at.is_not(None),
                AlertState.raised_at <= now - repeat_after,
            )
            .values(raised_at=now, cleared_at=None)
            .returning(AlertState.key)
        )
        return again.scalar_one_or_none() is not None

    async def clear(self, key: str, now: datetime) -> None:
        """The condition is over (nothing is sent)."""
        await self._session.execute(
            update(AlertState)
            .where(AlertState.key == key[:160], AlertState.cleared_at.is_(None))
            .values(cleared_at=now)
        )

    async def active(self, kind: str) -> list[str]:
        result = await self._session.execute(
            select(AlertState.key).where(AlertState.kind == kind, AlertState.cleared_at.is_(None))
        )
        return [str(key) for key in result.scalars().all()]


@dataclass(frozen=True)
class FunnelRow:
    """Members who joined a community in the period, by their source: how many of them
    started the bot, got the gift, redeemed a coupon (by the time of asking)."""

    source: str
    joined: int
    started: int
    gifted: int
    redeemed: int


class ReportDataRepository:
    """What the daily and weekly reports add to the KPIs (each bounded by the period)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def sop_runs(self, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
        """(schedule id, status, fires) of the fires in [start, end)."""
        result = await self._session.execute(
            select(SopRun.schedule_id, SopRun.status, func.count())
            .where(SopRun.fire_at >= start, SopRun.fire_at < end)
            .group_by(SopRun.schedule_id, SopRun.status)
            .order_by(SopRun.schedule_id, SopRun.status)
        )
        return [(str(s), str(st), int(n)) for s, st, n in result.all()]

    async def overdue_questions(
        self, chat_ids: list[int], since: datetime, now: datetime
    ) -> tuple[int, datetime | None]:
        """Questions asked since ``since`` still without a person's answer past their deadline
        (open, or escalated to the team and not answered since): how many, the oldest."""
        result = await self._session.execute(
            select(func.count(), func.min(Question.asked_at)).where(
                Question.status.in_((QuestionStatus.OPEN, QuestionStatus.ESCALATED)),
                Question.deadline <= now,
                Question.deadline >= since,
                Question.chat_id.in_(chat_ids),
            )
        )
        count, oldest = result.one()
        return int(count or 0), oldest

    async def failed_deliveries(self, start: datetime, end: datetime) -> list[tuple[str, int]]:
        """Failed outbox rows due in [start, end) by purpose (members who blocked the bot are
        not counted: they show as blocked)."""
        result = await self._session.execute(
            select(OutboxMessage.purpose, func.count())
            .where(
                OutboxMessage.status == OutboxStatus.FAILED,
                OutboxMessage.due_at >= start,
                OutboxMessage.due_at < end,
                *(
                    func.lower(func.coalesce(OutboxMessage.last_error, "")).not_like(f"%{m}%")
                    for m in UNREACHABLE_MARKERS
                ),
            )
            .group_by(OutboxMessage.purpose)
            .order_by(func.count().desc())
        )
        return [(str(p), int(n)) for p, n in result.all()]

    async def funnel(self, chat_ids: list[int], start: datetime, end: datetime) -> list[FunnelRow]:
        stint, member = Membership, Member
        redeemed = exists().where(Coupon.user_id == stint.user_id, Coupon.redeemed_at.is_not(None))
        source = func.coalesce(member.source, "unknown")
        result = await self._session.execute(
            select(
                source,
                func.count(distinct(stint.user_id)),
                func.count(distinct(case((member.started_at.is_not(None), stint.user_id)))),
                func.count(distinct(case((member.gift_sent_at.is_not(None), stint.user_id)))),
                func.count(distinct(case((redeemed, stint.user_id)))),
            )
            .join(member, member.user_id == stint.user_id)
            .where(
                stint.chat_id.in_(chat_ids),
                stint.joined_at >= start,
                stint.joined_at < end,
                # a leave of someone from before the bot is kept as a stint of no length
                or_(stint.left_at.is_(None), stint.left_at > stint.joined_at),
            )
            .group_by(source)
            .order_by(func.count(distinct(stint.user_id)).desc(), source)
        )
        return [
            FunnelRow(str(s), int(j), int(st), int(g), int(r)) for s, j, st, g, r in result.all()
        ]
