"""Repositories on SQLite and PostgreSQL: idempotent queueing, claims, counters."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.models import ChatKind, OutboxMessage
from bot.db.repositories import (
    ActivityRepository,
    MemberRepository,
    OutboxRepository,
    RollupRepository,
    UpdateRepository,
)
from bot.db.session import Database
from sop.clock import ManualClock


async def _enqueue(sessions: async_sessionmaker[AsyncSession], clock: ManualClock, n: int) -> None:
    async with sessions() as session, session.begin():
        repo = OutboxRepository(session)
        for i in range(n):
            await repo.enqueue(
                key=f"k{i}",
                chat_id=100 + i,
                chat_kind=ChatKind.PRIVATE,
                purpose="t",
                payload={"text": str(i)},
                now=clock.now(),
            )


async def test_enqueue_is_idempotent_per_key(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with sessions() as session, session.begin():
        repo = OutboxRepository(session)
        first = await repo.enqueue(
            key="gift:1",
            chat_id=1,
            chat_kind=ChatKind.PRIVATE,
            purpose="t",
            payload={"text": "a"},
            now=clock.now(),
        )
        again = await repo.enqueue(
            key="gift:1",
            chat_id=1,
            chat_kind=ChatKind.PRIVATE,
            purpose="t",
            payload={"text": "b"},
            now=clock.now(),
        )
    assert first is not None and again is None


async def test_claims_do_not_overlap_and_expired_leases_return(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await _enqueue(sessions, clock, 30)
    now = clock.now()
    lease = now + timedelta(seconds=90)

    async def claim(limit: int) -> list[int]:
        async with sessions() as session, session.begin():
            return [row.id for row in await OutboxRepository(session).claim(now, lease, limit)]

    first, second = await claim(20), await claim(20)
    assert len(first) == 20 and len(second) == 10 and not set(first) & set(second)
    assert await claim(20) == []
    clock.advance(seconds=90)
    async with sessions() as session, session.begin():
        back = await OutboxRepository(session).claim(clock.now(), clock.now(), 100)
    assert len(back) == 30


async def test_concurrent_claimers_share_the_queue_without_overlap(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    """Two senders claiming at once (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock of
    ``Database`` on SQLite) never get the same row."""
    db = Database(str(engine.url.render_as_string(hide_password=False)))
    try:
        await _enqueue(db.sessions, clock, 200)
        now, lease = clock.now(), clock.now() + timedelta(seconds=90)

        async def claimer() -> list[int]:
            got: list[int] = []
            while True:
                async with db.transaction() as session:
                    rows = await OutboxRepository(session).claim(now, lease, 7)
                if not rows:
                    return got
                got.extend(row.id for row in rows)

        results = await asyncio.gather(*(claimer() for _ in range(4)))
        claimed = [i for r in results for i in r]
        assert len(claimed) == 200 and len(set(claimed)) == 200
    finally:
        await db.dispose()


async def test_hold_never_revives_a_settled_row(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await _enqueue(sessions, clock, 1)
    async with sessions() as session, session.begin():
        repo = OutboxRepository(session)
        (row,) = await repo.claim(clock.now(), clock.now() + timedelta(seconds=90), 10)
        await repo.mark_sent(row.id, clock.now(), 5)
        await repo.hold([row.id], clock.now() + timedelta(seconds=90))
    async with sessions() as session:
        stored = await session.get(OutboxMessage, row.id)
        assert stored is not None and stored.status == "sent"


async def test_update_ids_are_claimed_once(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with sessions() as session, session.begin():
        repo = UpdateRepository(session)
        assert await repo.claim(77, clock.now())
        assert not await repo.claim(77, clock.now())


async def test_counters(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> None:
    day = date(2026, 11, 20)
    async with sessions() as session, session.begin():
        await MemberRepository(session).get_or_create(
            5, first_name="A", username=None, language_code=None, now=clock.now()
        )
        activity, rollups = ActivityRepository(session), RollupRepository(session)
        assert await activity.bump(-1, 5, day)
        assert not await activity.bump(-1, 5, day)
        assert await activity.bump(-1, 5, day + timedelta(days=1))
        await rollups.add(-1, day, joins=2, messages=1)
        await rollups.add(-1, day, joins=1)
    async with sessions() as session:
        rollup = await RollupRepository(session).get(-1, day)
    assert rollup is not None and (rollup.joins, rollup.messages, rollup.leaves) == (3, 1, 0)


async def test_member_times_come_back_aware_utc(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with sessions() as session, session.begin():
        await MemberRepository(session).get_or_create(
            6, first_name="B", username=None, language_code=None, now=clock.now()
        )
    async with sessions() as session:
        member = await MemberRepository(session).get(6)
    assert member is not None and member.first_seen_at == clock.now()
    assert member.first_seen_at.utcoffset() == timedelta(0)
