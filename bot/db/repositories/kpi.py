"""What ``/kpi`` and the reports read: rollups, member counts and their daily deltas, joins per
source, and the per-day aggregates of questions and greetings (each bounded by the days asked
for, never by the size of the history or of the member table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import (
    DailyRollup,
    KpiDay,
    MemberCount,
    MemberDelta,
    Membership,
    OutboxMessage,
    Question,
    SourceJoins,
)
from bot.db.models.outbox import OutboxStatus
from bot.db.upsert import insert_for

#: a failure that only says the member blocked the bot (counted as "blocked", not as failed)
UNREACHABLE_MARKERS = ("unreachable", "forbidden", "blocked", "deactivated")


@dataclass(frozen=True)
class WelcomeCounts:
    due: int
    in_time: int
    waiting: int


@dataclass
class DayQuestions:
    response_times: list[int]
    due: int


def _bucket(column: InstrumentedAttribute[Any], bounds: Sequence[datetime]) -> Any:
    """Which [bounds[i], bounds[i+1]) the value falls in (rows outside are filtered out)."""
    if len(bounds) <= 2:
        return literal(0)
    return case(
        *((column < bound, index) for index, bound in enumerate(bounds[1:-1])),
        else_=len(bounds) - 2,
    )


def seconds_between(
    session: AsyncSession,
    earlier: ColumnElement[Any] | InstrumentedAttribute[Any],
    later: ColumnElement[Any] | InstrumentedAttribute[Any],
) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, in SQL (SQLite keeps times as text, PostgreSQL as
    timestamps)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


class KpiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- kept as events happen (the ledger calls these) ---------------------------------
    async def stint_opened(self, chat_id: int, day: date, source: str) -> None:
        await self._change_count(chat_id, day, +1)
        stmt = insert_for(self._session, SourceJoins).values(
            chat_id=chat_id, day=day, source=source[:64], joins=1
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["chat_id", "day", "source"], set_={"joins": SourceJoins.joins + 1}
            )
        )

    async def stint_closed(self, chat_id: int, day: date) -> None:
        await self._change_count(chat_id, day, -1)

    async def _change_count(self, chat_id: int, day: date, by: int) -> None:
        count = insert_for(self._session, MemberCount).values(chat_id=chat_id, members=by)
        await self._session.execute(
            count.on_conflict_do_update(
                index_elements=["chat_id"], set_={"members": MemberCount.members + by}
            )
        )
        delta = insert_for(self._session, MemberDelta).values(chat_id=chat_id, day=day, delta=by)
        await self._session.execute(
            delta.on_conflict_do_update(
                index_elements=["chat_id", "day"], set_={"delta": MemberDelta.delta + by}
            )
        )

    # --- read ----------------------------------------------------------------------------
    async def rollups(self, chat_ids: Sequence[int], first: date, last: date) -> list[DailyRollup]:
        result = await self._session.execute(
            select(DailyRollup).where(
                DailyRollup.chat_id.in_(chat_ids), DailyRollup.day >= first, DailyRollup.day <= last
            )
        )
        return list(result.scalars().all())

    async def members_now(self, chat_ids: Sequence[int]) -> dict[int, int]:
        result = await self._session.execute(
            select(MemberCount.chat_id, MemberCount.members).where(
                MemberCount.chat_id.in_(chat_ids)
            )
        )
        return {int(chat): int(members) for chat, members in result.all()}

    async def deltas_after(self, chat_ids: Sequence[int], day: date) -> dict[tuple[int, date], int]:
        """Member-count changes on the days after ``day`` (to walk back from today's count)."""
        result = await self._session.execute(
            select(MemberDelta.chat_id, MemberDelta.day, MemberDelta.delta).where(
                MemberDelta.chat_id.in_(chat_ids), MemberDelta.day > day
            )
        )
        return {(int(chat), d): int(delta) for chat, d, delta in result.all()}

    async def sources(
        self, chat_ids: Sequence[int], first: date, last: date
    ) -> dict[int, list[tuple[str, int]]]:
        """Joins by source per community over the days, most first."""
        total = func.sum(SourceJoins.joins)
        result = await self._session.execute(
            select(SourceJoins.chat_id, SourceJoins.source, total)
            .where(
                SourceJoins.chat_id.in_(chat_ids), SourceJoins.day >= first, SourceJoins.day <= last
            )
            .group_by(SourceJoins.chat_id, SourceJoins.source)
        )
        by_chat: dict[int, list[tuple[str, int]]] = {}
        for chat, source, joins in result.all():
            by_chat.setdefault(int(chat), []).append((str(source), int(joins)))
        for rows in by_chat.values():
            rows.sort(key=lambda row: (-row[1], row[0]))
        return by_chat

    async def questions(
        self, chat_id: int, bounds: Sequence[datetime], now: datetime
    ) -> list[DayQuestions]:
        """Per [bounds[i], bounds[i+1]): the response times of the questions asked then (plain
        integers: no timestamps leave the database) and how many are due (answered, or past
        their deadline)."""
        if len(bounds) < 2:
            return []
        bucket = _bucket(Question.asked_at, bounds)
        due = or_(Question.response_seconds.is_not(None), Question.deadline <= now)
        result = await self._session.execute(
            select(bucket, Question.response_seconds, case((due, 1), else_=0)).where(
                Question.chat_id == chat_id,
                Question.asked_at >= bounds[0],
                Question.asked_at < bounds[-1],
            )
        )
        days = [DayQuestions([], 0) for _ in bounds[1:]]
        for index, seconds, is_due in result.all():
            day = days[int(index)]
            if seconds is not None:
                day.response_times.append(int(seconds))
            day.due += int(is_due)
        return days

    async def welcome(
        self, chat_id: int, bounds: Sequence[datetime], within: timedelta, now: datetime
    ) -> list[WelcomeCounts]:
        """Greeting SLA of the stints that began in each [bounds[i], bounds[i+1]): counted in
        the database (a day can hold tens of thousands of joins). Someone who left before being
        greeted is not due; someone not greeted whose deadline has not come is waiting."""
        if len(bounds) < 2:
            return []
        stint = Membership
        bucket = _bucket(stint.joined_at, bounds)
        greeted = stint.welcomed_at.is_not(None)
        in_time = and_(
            greeted,
            self._seconds(stint.joined_at, stint.welcomed_at) <= within.total_seconds() + 0.001,
        )
        due = or_(greeted, and_(stint.left_at.is_(None), stint.joined_at <= now - within))
        waiting = and_(
            stint.welcomed_at.is_(None), stint.left_at.is_(None), stint.joined_at > now - within
        )
        result = await self._session.execute(
            select(
                bucket,
                func.sum(case((due, 1), else_=0)),
                func.sum(case((in_time, 1), else_=0)),
                func.sum(case((waiting, 1), else_=0)),
            )
            .where(
                stint.chat_id == chat_id, stint.joined_at >= bounds[0], stint.joined_at < bounds[-1]
            )
            .group_by(bucket)
        )
        counts = [WelcomeCounts(0, 0, 0)] * (len(bounds) - 1)
        for index, due_n, in_time_n, waiting_n in result.all():
            counts[int(index)] = WelcomeCounts(
                int(due_n or 0), int(in_time_n or 0), int(waiting_n or 0)
            )
        return counts

    def _seconds(
        self,
        earlier: ColumnElement[Any] | InstrumentedAttribute[Any],
        later: ColumnElement[Any] | InstrumentedAttribute[Any],
    ) -> ColumnElement[Any]:
        return seconds_between(self._session, earlier, later)

    async def settled_days(
        self, chat_ids: Sequence[int], first: date, last: date
    ) -> dict[tuple[int, date], KpiDay]:
        result = await self._session.execute(
            select(KpiDay).where(
                KpiDay.chat_id.in_(chat_ids), KpiDay.day >= first, KpiDay.day <= last
            )
        )
        return {(row.chat_id, row.day): row for row in result.scalars().all()}

    async def settle_day(
        self,
        chat_id: int,
        day: date,
        welcome: WelcomeCounts,
        questions: DayQuestions,
        now: datetime,
    ) -> None:
        """Keeps a day that is over (the first caller's figures; the same for any other)."""
        stmt = insert_for(self._session, KpiDay).values(
            chat_id=chat_id,
            day=day,
            welcome_due=welcome.due,
            welcome_in_time=welcome.in_time,
            questions_due=questions.due,
            response_times=sorted(questions.response_times),
            computed_at=now,
        )
        await self._session.execute(stmt.on_conflict_do_nothing(index_elements=["chat_id", "day"]))

    async def deliveries(self, start: datetime, end: datetime) -> tuple[int, int]:
        """(sent, failed) of the outbox rows due in [start, end); a member who blocked the bot
        is not a failed delivery, a send whose answer could not be read is a sent one."""
        sent_real = OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.SENT_UNKNOWN))
        failed_real = and_(
            OutboxMessage.status == OutboxStatus.FAILED,
            *(
                func.lower(func.coalesce(OutboxMessage.last_error, "")).not_like(f"%{marker}%")
                for marker in UNREACHABLE_MARKERS
            ),
        )
        result = await self._session.execute(
            select(
                func.sum(case((sent_real, 1), else_=0)), func.sum(case((failed_real, 1), else_=0))
            ).where(
                OutboxMessage.status.in_(
                    (OutboxStatus.SENT, OutboxStatus.SENT_UNKNOWN, OutboxStatus.FAILED)
                ),
                OutboxMessage.due_at >= start,
                OutboxMessage.due_at < end,
            )
        )
        sent, failed = result.one()
        return int(sent or 0), int(failed or 0)
