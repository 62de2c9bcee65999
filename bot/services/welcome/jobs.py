"""The welcome loop: batched group greetings (woken by joins, at least every five minutes), and
the delivery hook that marks a member unreachable."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import Committed, JobContext
from bot.services.welcome.service import WelcomeDeliveryHook
from bot.ticker import Ticker

#: the welcome loop looks at least this often, even when nothing woke it
WELCOME_POLL = timedelta(minutes=5)
#: a join waits this long (real time) for the joins right behind it: a burst of 500 joins
#: makes a few planning passes, not 500
JOIN_LINGER = 0.05


async def plan_greetings(jobs: JobContext) -> datetime | None:
    """Greets the joiners whose batch is due; returns when the next batch is."""
    async with jobs.services() as services:
        next_check = await services.welcome.plan_group_greetings(jobs.clock.now())
    jobs.wake_delivery()
    return next_check


def wake_on_join(ticker: Ticker, update: Committed) -> None:
    """Someone joined: there is someone to greet."""
    if update.joined:
        ticker.wake()


def delivery_hook(jobs: JobContext) -> WelcomeDeliveryHook:
    return WelcomeDeliveryHook(jobs.config)
