"""The dashboard's loop: the snapshots operators looked at lately, worked out again."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.jobs import JobContext
from bot.services.dashboard.snapshots import REFRESH_EVERY

log = logging.getLogger(__name__)

SNAPSHOTS_POLL = REFRESH_EVERY


async def refresh_snapshots(jobs: JobContext) -> datetime | None:
    now = jobs.clock.now()
    async with jobs.services() as services:
        refreshed = await services.dashboard_reads.snapshots.refresh(now)
    if refreshed:
        log.info("dashboard: %d snapshots worked out again", refreshed)
    return now + REFRESH_EVERY
