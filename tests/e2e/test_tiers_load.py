"""The value-tier pass over a few thousand members: its writes are a statement per batch, not
per member, and the bot answers updates while it runs (bench_memory's 100,000 members once
kept the bot busy for minutes with the start-up pass)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

import bot.services.members.jobs as member_jobs
from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.migrate import upgrade
from bot.db.models import Member, MemberTag, TagEvent
from bot.db.session import Database
from bot.services.members.tiers import CHUNK, POTENTIAL, SILENT, TIER_TAGS
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import settings_for

MEMBERS = 3_000
FIRST_ID = 100_000


async def _seed_members(db: Database, now: Any, count: int = MEMBERS) -> None:
    """``count`` members in one executemany: a tenth silent for 100 days (``tier:silent``), the
    rest seen yesterday and never buyers (``tier:potential``)."""
    await upgrade(db.engine)
    rows = [
        {
            "user_id": FIRST_ID + i,
            "first_name": f"m{i}",
            "first_seen_at": now - timedelta(days=200),
            "last_seen_at": now - timedelta(days=100 if i % 10 == 0 else 1),
        }
        for i in range(count)
    ]
    async with db.transaction() as session:
        await session.execute(insert(Member), rows)


async def _count(db: Database, column: Any, *where: Any) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count(column)).where(*where))).scalar_one())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_the_pass_writes_a_statement_per_batch(
    db: Database, config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    await _seed_members(db, now)
    writes: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE")):
            writes.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    first = await member_jobs.tier_pass(db, config, now)
    assert first.members[SILENT] == MEMBERS // 10
    assert first.members[POTENTIAL] == MEMBERS - MEMBERS // 10
    assert (first.added, first.removed) == (MEMBERS, 0)
    # the tags and their history: two statements a batch, two more where a batch holds the
    # start of another tag's (or direction's) run; it was two a member
    assert len(writes) <= 2 * (math.ceil(MEMBERS / CHUNK) + 2 * len(TIER_TAGS))
    assert await _count(db, MemberTag.user_id) == MEMBERS
    assert await _count(db, TagEvent.id, TagEvent.by == "tiers") == MEMBERS

    writes.clear()  # nothing to change: no write at all
    again = await member_jobs.tier_pass(db, config, now)
    assert (again.added, again.removed, writes) == (0, 0, [])

    # 90 days on, everyone is silent: the potential tags go, silent ones come, each in history
    moved = await member_jobs.tier_pass(db, config, now + timedelta(days=90))
    assert (moved.added, moved.removed) == (MEMBERS - MEMBERS // 10, MEMBERS - MEMBERS // 10)
    assert await _count(db, MemberTag.user_id, MemberTag.tag == SILENT) == MEMBERS
    assert await _count(db, TagEvent.id, TagEvent.action == "removed") == MEMBERS - MEMBERS // 10


async def test_updates_are_answered_while_the_pass_runs(
    database_url: str,
    db: Database,
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start-up pass over a few thousand members, in batches of ten (so that it lasts far
    longer than an answer takes): a /start sent once it began is answered before it ends."""
    await _seed_members(db, clock.now())
    monkeypatch.setattr(member_jobs, "CHUNK", 10)
    app = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while await _count(db, MemberTag.user_id) == 0:  # the pass's first batch is in
            assert loop.time() < deadline, "the value-tier pass never started"
            await asyncio.sleep(0.01)
        sandbox.add_user(5001, "Probe", language_code="en")
        sent = time.perf_counter()
        sandbox.user_sends(5001, "/start")
        while not sandbox.sent_messages(chat_id=5001):
            assert loop.time() < deadline, "/start was not answered"
            await asyncio.sleep(0.01)
        answered = time.perf_counter() - sent
        tagged = await _count(db, MemberTag.user_id)
        assert tagged < MEMBERS, f"the pass ended before /start was answered ({answered:.2f} s)"
        assert app.tickers["value tiers"].busy(clock.now())
        while app.tickers["value tiers"].busy(clock.now()):  # and the pass goes on to the end
            assert loop.time() < deadline, "the value-tier pass did not finish"
            await asyncio.sleep(0.05)
        assert await _count(db, MemberTag.user_id) == MEMBERS
    finally:
        await app.stop()
