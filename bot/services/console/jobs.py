"""The reports loop: daily and weekly reports at their times (each once), then the anomaly
alerts (at least every five minutes)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs import JobContext

log = logging.getLogger(__name__)

#: the reports and alerts loop looks at least this often (reports wake it at their times)
REPORTS_POLL = timedelta(minutes=5)


async def run_reports(jobs: JobContext) -> datetime | None:
    """Daily and weekly reports whose time has come (each once), then the alerts."""
    now = jobs.clock.now()
    wake: list[datetime | None] = []
    try:  # a failing report must not hold back the alerts: separate transactions
        async with jobs.services() as services:
            wake.append(await services.reports.run_due(now))
    except Exception:
        log.exception("the reports failed")
    async with jobs.services() as services:
        wake.append(await services.alerts.check(now))
    jobs.wake_delivery()
    times = [t for t in wake if t is not None]
    return min(times) if times else None
