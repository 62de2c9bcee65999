"""Plain chatter, recorded in bulk: the members' messages of one getUpdates batch that trigger
nothing (``handlers/chatter.py`` says which) get, together, exactly what
:meth:`LedgerService.record_message` gives each — the handled update id, the member's profile
and last-seen time, the day's activity count and the community's rollup — in one transaction
and a handful of statements.

The one thing the single path reads before it writes is the member's previous message (the
lifecycle stage is looked up only when it is older than ``tags.lifecycle.silent``): a message
whose author is unknown or has been silent that long is handed back, to take the single path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories.chatter import ChatterRepository
from bot.services.dto import Person


@dataclass(frozen=True)
class Chatter:
    """A member's message in a community that triggers nothing but bookkeeping."""

    update_id: int
    chat_id: int
    person: Person
    sent_at: datetime


@dataclass(frozen=True)
class Absorbed:
    #: update ids done: recorded now, or recorded before (a batch delivered again)
    done: frozenset[int]
    #: the messages to take the single path (their authors must be looked at one by one)
    declined: tuple[Chatter, ...]


class ChatterService:
    def __init__(self, session: AsyncSession, tz: ZoneInfo, silent: timedelta) -> None:
        self._repo = ChatterRepository(session)
        self._tz = tz
        self._silent = silent

    async def absorb(self, chatter: Sequence[Chatter], now: datetime) -> Absorbed:
        """Records ``chatter`` (in batch order) inside the caller's transaction."""
        first_at: dict[int, datetime] = {}
        for c in chatter:
            first_at.setdefault(c.person.id, c.sent_at)
        seen = await self._repo.last_seen(first_at)
        recent = {
            uid
            for uid, at in first_at.items()
            if (last := seen.get(uid)) is not None and last > at - self._silent
        }
        declined = tuple(c for c in chatter if c.person.id not in recent)
        taken = [c for c in chatter if c.person.id in recent]
        claimed = await self._repo.claim(list(dict.fromkeys(c.update_id for c in taken)), now)
        # an update posted twice in one batch (a retried webhook post) is counted once
        fresh = list({c.update_id: c for c in taken if c.update_id in claimed}.values())
        await self._record(fresh)
        return Absorbed(frozenset(c.update_id for c in taken), declined)

    async def _record(self, chatter: Sequence[Chatter]) -> None:
        profiles: dict[int, dict[str, Any]] = {}
        counts: dict[tuple[int, int, date], int] = {}
        for c in chatter:
            p = c.person
            last = profiles.get(p.id)
            at = c.sent_at if last is None else max(c.sent_at, last["b_at"])
            profiles[p.id] = {  # the last message's profile, the latest time
                "b_uid": p.id,
                "b_fn": p.first_name[:128],
                "b_un": p.username[:64] if p.username else None,
                "b_lc": p.language_code[:16] if p.language_code else None,
                "b_at": at,
            }
            key = (c.chat_id, p.id, c.sent_at.astimezone(self._tz).date())
            counts[key] = counts.get(key, 0) + 1
        # rows locked in key order, members before counters, as the single path does (a
        # deadlock with another writer would cost the batch a retry: it is transient)
        await self._repo.touch([profiles[uid] for uid in sorted(profiles)])
        first_today = await self._repo.bump(dict(sorted(counts.items())))
        rollups: dict[tuple[int, date], dict[str, Any]] = {}
        for (chat, user, day), n in counts.items():
            row = rollups.setdefault(
                (chat, day), {"chat_id": chat, "day": day, "messages": 0, "active_members": 0}
            )
            row["messages"] += n
            row["active_members"] += int((chat, user, day) in first_today)
        await self._repo.add_rollups([rollups[key] for key in sorted(rollups)])
