"""The members' loops: the daily lifecycle pass and its win-back DMs, the daily value-tier
pass, Telegram's member count of each community.

Each tick opens its own transactions (``bot.jobs``) and returns when it next wants to run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config import CommunityConfig
from bot.db.repositories import RollupRepository
from bot.db.session import Database
from bot.jobs import JobContext
from bot.services.members.tiers import CHUNK, TierPass, TierService, changes_between, next_run

log = logging.getLogger(__name__)

#: the lifecycle loop (a daily pass at tags.daily_at) looks at least this often
LIFECYCLE_POLL = timedelta(hours=1)
#: the value-tier loop (a daily pass at tiers.run_at, and one at start) looks at least daily
TIERS_POLL = timedelta(days=1)
MEMBER_COUNT_EVERY = timedelta(minutes=15)


async def run_lifecycle(jobs: JobContext) -> datetime:
    """The daily lifecycle pass when its time has come (claimed per day: one instance
    does it), then the win-back DMs, a batch per transaction; returns the next pass time."""
    now = jobs.clock.now()
    async with jobs.services() as services:
        lifecycle = services.lifecycle
        done = await lifecycle.daily_pass(now)
        next_pass = lifecycle.next_pass(now)
    if done is not None:
        sent = 0
        while True:
            async with jobs.services() as services:
                batch = await services.lifecycle.winback_batch(now, sent)
            if not batch:
                break
            sent += batch
            jobs.wake_delivery()
    return next_pass


async def run_tiers(jobs: JobContext) -> datetime:
    """Recomputes the tier tags now; the next pass at ``tiers.run_at`` local time."""
    config = jobs.config.current
    now = jobs.clock.now()
    if config.tiers.enabled:
        result = await tier_pass(jobs.db, config, now)
        log.info("value tiers: %s (+%d -%d)", result.members, result.added, result.removed)
    return next_run(config, now)


async def tier_pass(db: Database, config: CommunityConfig, now: datetime) -> TierPass:
    """One pass: who should hold which tier (one read, outside the write lock), then the
    changes in small transactions (removals first), a statement per tag and direction in
    each: updates are handled between them."""
    async with db.sessions() as session:  # only reads: on SQLite no write lock is taken
        service = TierService(session, config)
        wanted = await service.wanted(now)
        holders = await service.holders()
    changes = changes_between(wanted, holders)
    result = TierPass(members={tag: len(users) for tag, users in wanted.items()})
    for start in range(0, len(changes), CHUNK):
        async with db.transaction() as session:
            added, removed = await TierService(session, config).apply(
                changes[start : start + CHUNK], now
            )
        result.added += added
        result.removed += removed
    return result


async def count_members(jobs: JobContext) -> datetime:
    """Telegram's member count of each community (the ledger only knows joins it saw)."""
    config = jobs.config.current
    counts = {}
    for community in config.communities:  # network calls: outside any transaction
        count = await jobs.member_count(community.chat_id)
        if count is not None:
            counts[community.chat_id] = count
    day = jobs.clock.now().astimezone(config.tz).date()
    async with jobs.db.transaction() as session:
        for chat_id, count in counts.items():
            await RollupRepository(session).set_members_reported(chat_id, day, count)
    return jobs.clock.now() + MEMBER_COUNT_EVERY
