"""The referral loop: joins credited to their referrers, stays rewarded (every ten minutes)."""

from __future__ import annotations

from datetime import datetime

from bot.jobs import JobContext
from bot.services.commerce.referrals import CHECK_EVERY


async def run_referrals(jobs: JobContext) -> datetime:
    now = jobs.clock.now()
    if jobs.config.current.referral is None:
        return now + CHECK_EVERY
    async with jobs.services() as services:
        await services.referrals.credit_joins(now)
    async with jobs.services() as services:
        referrals = services.referrals
        if await referrals.reward_due(now):
            jobs.wake_delivery()
        return await referrals.next_due(now)
