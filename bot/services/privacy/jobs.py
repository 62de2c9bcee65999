"""The retention loop: members gone or silent longer than ``privacy.retention`` are
pseudonymised (their identity blanked as by an erasure), a batch at a time, once a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import JobContext

#: the pass runs at start, then once a day (sooner while a batch was full)
RETENTION_POLL = timedelta(days=1)
#: members pseudonymised per transaction
RETENTION_BATCH = 200


async def run_retention(jobs: JobContext) -> datetime | None:
    now = jobs.clock.now()
    async with jobs.services() as services:
        retention = services.config.privacy.retention
        if retention is None:
            return None
        done = await services.privacy.pseudonymise_stale(now, retention, RETENTION_BATCH)
    if done == RETENTION_BATCH:
        return now + timedelta(seconds=1)  # more are due: the next batch soon
    return None
