"""Housekeeping: handled update ids are forgotten once Telegram can no longer redeliver them
(hourly)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db.repositories import UpdateRepository
from bot.jobs import JobContext

#: Telegram keeps an undelivered update for 24 hours; ids are remembered a little longer
UPDATE_MEMORY = timedelta(hours=48)
HOUSEKEEPING_EVERY = timedelta(hours=1)


async def forget_handled_updates(jobs: JobContext) -> datetime:
    """Forgets handled update ids once Telegram can no longer redeliver them."""
    async with jobs.db.transaction() as session:
        await UpdateRepository(session).forget_before(jobs.clock.now() - UPDATE_MEMORY)
    return jobs.clock.now() + HOUSEKEEPING_EVERY
