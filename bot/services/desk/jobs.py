"""The desk's loop (declared in ``bot/features/desk.py``): what Telegram says of the team chat,
asked hourly outside the transaction, then :class:`~bot.services.desk.upkeep.DeskJobs` — the
first-response clock, reminders, digests and autoclose."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs import Committed, JobContext
from bot.services.desk.delivery import DeskDeliveryHook
from bot.services.desk.upkeep import DESK_POLL, DIGEST_EVERY
from bot.ticker import Ticker

__all__ = ["DESK_POLL", "run_desk"]

#: how often Telegram is asked what the team chat is (a forum? may the bot make topics?)
TEAM_CHAT_CHECK = timedelta(hours=1)


async def run_desk(jobs: JobContext) -> datetime:
    """The service desk: what Telegram says of the team chat (hourly, before the
    transaction), then the first-response clock and autoclose."""
    now = jobs.clock.now()
    team_chat = jobs.config.current.team.chat
    facts = None
    checked = jobs.state.get("desk")
    if team_chat is not None and (checked is None or now - checked >= TEAM_CHAT_CHECK):
        facts = await jobs.team_chat_facts(team_chat)
        jobs.state["desk"] = now
    async with jobs.services() as services:
        if facts is not None:
            await services.desk_jobs.record_team_chat(facts, now)
        wake = await services.desk_jobs.tick(now)
    jobs.wake_delivery()
    return wake


def wake_on_private(ticker: Ticker, update: Committed) -> None:
    """A private conversation may have opened: its deadline (or the next digest) may come
    before the next tick."""
    if not update.group_message:
        within = update.config.service.within or update.config.first_response.within
        ticker.wake_by(update.now + min(within, DIGEST_EVERY))


def delivery_hook(jobs: JobContext) -> DeskDeliveryHook:
    return DeskDeliveryHook(jobs.config)
