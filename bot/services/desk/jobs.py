"""The desk's loops (declared in ``bot/features/desk.py``): ``desk`` — what Telegram says of the
team chat, asked hourly outside the transaction, then :class:`~bot.services.desk.upkeep.DeskJobs`
(the first-response clock, reminders, digests and autoclose); ``menus`` — the command menus
(:class:`~bot.services.desk.menus.DeskMenus`) set at start, on reloads and when the team
changes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs import Committed, JobContext
from bot.services.desk.delivery import DeskDeliveryHook
from bot.services.desk.menus import Menu, MenuScope
from bot.services.desk.upkeep import DESK_POLL, DIGEST_EVERY
from bot.ticker import Ticker

__all__ = ["DESK_POLL", "MENUS_POLL", "publish_menus", "run_desk"]

log = logging.getLogger(__name__)

#: how often the menus loop looks whether the team changed (reloads wake it at once)
MENUS_POLL = timedelta(minutes=10)
#: a menu Telegram could not take now (429, network, 5xx) is tried again after this
MENUS_RETRY = timedelta(minutes=1)
#: a menu Telegram refused (chat not found…) is asked again after this, unless it changes
MENUS_REFUSED_AGAIN = timedelta(hours=6)

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


async def publish_menus(jobs: JobContext) -> datetime:
    """Sets the menus that changed since this process last set them and deletes the ones no
    longer wanted (an operator who left the team falls back to the members' menu). A failure
    is logged and tried again later: it never holds anything up."""
    now = jobs.clock.now()
    first = "menus" not in jobs.state  # this process's first pass (until one completes)
    async with jobs.services() as services:
        wanted = await services.desk_menus.wanted()
        operators = [s.chat_id for s in wanted if s.chat_id is not None and s.chat_id > 0]
        former = await services.desk_menus.former_operators(operators) if first else []
    #: scope → (the menu sent, when Telegram refused it; None when it took it)
    published: dict[MenuScope, tuple[Menu, datetime | None]] = jobs.menus
    gone = [scope for scope in published if scope not in wanted]
    changes: list[tuple[MenuScope, Menu]] = [
        *(
            (scope, menu)
            for scope, menu in wanted.items()
            if _stale(published.get(scope), menu, now)
        ),
        *((scope, ()) for scope in gone),
        # dropped from the team while no process ran: the members' menu again
        *((MenuScope("chat", uid), ()) for uid in former if MenuScope("chat", uid) not in gone),
    ]
    for scope, menu in changes:
        done = await jobs.set_commands(scope.kind, scope.chat_id, scope.language_code, menu)
        if done is None:  # 429, network, 5xx: the rest waits too (they would fail alike)
            return now + MENUS_RETRY
        if menu:
            published[scope] = (menu, None if done else now)
        else:
            published.pop(scope, None)
    jobs.state["menus"] = now
    if changes:
        log.info("command menus: %d changed, %d set", len(changes), len(published))
    return now + MENUS_POLL


def _stale(sent: tuple[Menu, datetime | None] | None, menu: Menu, now: datetime) -> bool:
    """Whether a menu is to be sent: never sent, changed, or refused over
    :data:`MENUS_REFUSED_AGAIN` ago (the bot may have been added to the chat since)."""
    if sent is None or sent[0] != menu:
        return True
    return sent[1] is not None and now - sent[1] >= MENUS_REFUSED_AGAIN


def wake_on_private(ticker: Ticker, update: Committed) -> None:
    """A private conversation may have opened: its deadline (or the next digest) may come
    before the next tick."""
    if not update.group_message:
        within = update.config.service.within or update.config.first_response.within
        ticker.wake_by(update.now + min(within, DIGEST_EVERY))


def delivery_hook(jobs: JobContext) -> DeskDeliveryHook:
    return DeskDeliveryHook(jobs.config)
