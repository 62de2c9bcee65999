"""The broadcast pump: backlog refilled, progress edited, tallies and A/B reports (every
second while a broadcast runs, woken by each settled copy)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import JobContext
from bot.services.broadcasts.delivery import BroadcastDeliveryHook

PUMP = "broadcasts"
#: the broadcast pump looks at least this often (a running broadcast: every second)
BROADCAST_POLL = timedelta(seconds=30)


async def run_broadcasts(jobs: JobContext) -> datetime | None:
    """Running broadcasts: backlog refilled, progress edited, tallies and A/B reports."""
    async with jobs.services() as services:
        wake = await services.broadcasts.pump(jobs.clock.now())
    jobs.wake_delivery()
    return wake


def delivery_hook(jobs: JobContext) -> BroadcastDeliveryHook:
    """A broadcast's copy was settled: the pump refills its backlog within a second."""
    return BroadcastDeliveryHook(
        lambda: jobs.wake_by(PUMP, jobs.clock.now() + timedelta(seconds=1))
    )
