"""The loops of community order: complaints (alerts nobody claimed past half their SLA are told
again) and captcha (join protection's challenges: group challenges posted in batches, and
challenges past their time failed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import Committed, JobContext
from bot.services.moderation.cleanup_delivery import CleanupDeliveryHook
from bot.services.moderation.delivery import CaptchaDeliveryHook, ModerationDeliveryHook
from bot.ticker import Ticker

#: the loop looks at least this often (half a complaint's SLA is an hour)
COMPLAINTS_POLL = timedelta(minutes=5)
#: the captcha loop looks at least this often, even when nothing woke it (it is woken by joins
#: and join requests, and wakes itself at the next challenge's deadline)
CAPTCHA_POLL = timedelta(minutes=1)


async def remind_complaints(jobs: JobContext) -> datetime | None:
    """Unclaimed alerts past half their SLA: the team told again, naming the owners."""
    async with jobs.services() as services:
        wake = await services.complaints.remind_due(jobs.clock.now())
    jobs.wake_delivery()
    return wake


async def run_captcha(jobs: JobContext) -> datetime | None:
    """Challenges past their time: declined or removed; group challenges that are due: posted.
    Returns the next deadline or batch."""
    # no guard on the config: challenges pending when captcha was taken out still run out
    async with jobs.services() as services:
        wake = await services.captcha.tick(jobs.clock.now())
    jobs.wake_delivery()
    return wake


def wake_on_join(ticker: Ticker, update: Committed) -> None:
    """A join or a join request: there may be someone to challenge."""
    if update.joined and update.config.guards_joins:
        ticker.wake()


def delivery_hook(_jobs: JobContext) -> ModerationDeliveryHook:
    """Self-deleting notices and pinned rules: acted on once their message went."""
    return ModerationDeliveryHook()


def captcha_hook(jobs: JobContext) -> CaptchaDeliveryHook:
    """A group challenge sent: its joiners' time counts from then; its message id kept."""
    return CaptchaDeliveryHook(jobs.config)


def cleanup_hook(jobs: JobContext) -> CleanupDeliveryHook:
    """A removal's ban and unban settled: counted, audited; the operator told after the last."""
    return CleanupDeliveryHook(jobs.config)
