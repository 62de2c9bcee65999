"""The SOP loop: cron fires and question deadlines (woken by group messages and reloads, at
least every five minutes)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs import Committed, JobContext
from bot.ticker import Ticker

log = logging.getLogger(__name__)

#: the SOP loop looks at least this often (it is woken by group messages, which may open
#: questions, and sleeps until the next fire or deadline otherwise)
SOP_POLL = timedelta(minutes=5)


async def run_sop(jobs: JobContext) -> datetime | None:
    """One SOP tick: carries out what is due; returns when the next thing falls due."""
    now = jobs.clock.now()
    next_schedule = next_question = None
    try:  # one failing part must not hold back the other: separate transactions
        async with jobs.services() as services:
            next_schedule = await services.schedules.carry_out_due(now)
    except Exception:
        log.exception("carrying out the schedules failed")
    async with jobs.services() as services:
        next_question = await services.questions.act_on_overdue(now)
    jobs.wake_delivery()
    times = [t for t in (next_schedule, next_question) if t is not None]
    return min(times) if times else None


def wake_by_question_deadline(ticker: Ticker, update: Committed) -> None:
    """A group message may have opened a question: its deadline may come before the next fire."""
    if update.group_message:
        ticker.wake_by(update.now + update.config.first_response.within)
