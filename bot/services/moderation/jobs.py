"""The complaints loop: alerts nobody claimed past half their level's time are told again."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import JobContext
from bot.services.moderation.delivery import ModerationDeliveryHook

#: the loop looks at least this often (half a complaint's SLA is an hour)
COMPLAINTS_POLL = timedelta(minutes=5)


async def remind_complaints(jobs: JobContext) -> datetime | None:
    """Unclaimed alerts past half their SLA: the team told again, naming the owners."""
    async with jobs.services() as services:
        wake = await services.complaints.remind_due(jobs.clock.now())
    jobs.wake_delivery()
    return wake


def delivery_hook(_jobs: JobContext) -> ModerationDeliveryHook:
    """Self-deleting notices and pinned rules: acted on once their message went."""
    return ModerationDeliveryHook()
