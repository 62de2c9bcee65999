"""Value tiers (the daily pass): ``tier:high_value``, ``tier:potential``, ``tier:silent``.

- high_value: spend over ``tiers.high_value.spend_over`` within ``window`` (12 months), or a
  repurchase rate over ``repurchase_rate_over`` (the share of the window's 30-day periods in
  which the member ordered);
- potential: interacted (joined, spoke) within ``potential_within`` and never bought (no order)
  nor redeemed a coupon;
- silent: no interaction for ``silent_after`` (90 days) — unless high value.

A member holds at most one tier tag. Tags go through :class:`TagRepository` (history kept), in
small transactions so that the pass never holds the database for long.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import groupby

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Coupon, Member, MemberTag
from bot.db.repositories import TagRepository
from bot.db.repositories.growth import OrderRepository

HIGH_VALUE, POTENTIAL, SILENT = "tier:high_value", "tier:potential", "tier:silent"
TIER_TAGS = (HIGH_VALUE, POTENTIAL, SILENT)
#: who writes the tags (shown in the tag history)
BY = "tiers"
PERIOD = timedelta(days=30)
#: tag changes per transaction (on SQLite each one holds the write lock: updates get in between)
CHUNK = 500


@dataclass
class TierPass:
    """What one pass found and changed."""

    members: dict[str, int] = field(default_factory=dict)
    added: int = 0
    removed: int = 0


class TierService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    async def wanted(self, now: datetime) -> dict[str, set[int]]:
        """Who should hold each tier tag at ``now``."""
        rules = self._config.tiers
        high = await self._high_value(now)
        last = func.coalesce(Member.last_seen_at, Member.first_seen_at)
        silent = set(
            (
                await self._session.execute(
                    select(Member.user_id).where(last <= now - rules.silent_after)
                )
            ).scalars()
        )
        engaged = union(
            OrderRepository.buyers(), select(Coupon.user_id).where(Coupon.redeemed_at.is_not(None))
        )
        potential = set(
            (
                await self._session.execute(
                    select(Member.user_id).where(
                        last > now - rules.potential_within, Member.user_id.not_in(engaged)
                    )
                )
            ).scalars()
        )
        return {HIGH_VALUE: high, POTENTIAL: potential - high, SILENT: silent - high}

    async def _high_value(self, now: datetime) -> set[int]:
        rule = self._config.tiers.high_value
        start = now - rule.window
        spend: dict[int, int] = defaultdict(int)
        periods: dict[int, set[int]] = defaultdict(set)
        for user_id, amount, ordered_at in await OrderRepository(self._session).since(start):
            if ordered_at > now:
                continue
            spend[user_id] += amount
            periods[user_id].add(int((ordered_at - start) / PERIOD))
        total_periods = max(1, math.ceil(rule.window / PERIOD))
        high = set()
        for user_id in spend:
            if (rule.spend_over is not None and spend[user_id] > rule.spend_over * 100) or (
                rule.repurchase_rate_over is not None
                and len(periods[user_id]) / total_periods > rule.repurchase_rate_over
            ):
                high.add(user_id)
        if not high:
            return high
        known = set(
            (
                await self._session.execute(  # tags belong to members the bot knows
                    select(Member.user_id).where(Member.user_id.in_(high))
                )
            ).scalars()
        )
        return high & known

    async def holders(self) -> dict[str, set[int]]:
        result = await self._session.execute(
            select(MemberTag.user_id, MemberTag.tag).where(MemberTag.tag.in_(TIER_TAGS))
        )
        holders: dict[str, set[int]] = {tag: set() for tag in TIER_TAGS}
        for user_id, tag in result.all():
            holders[tag].add(int(user_id))
        return holders

    async def apply(
        self, changes: Iterable[tuple[int, str, bool]], now: datetime
    ) -> tuple[int, int]:
        """``(user_id, tag, add?)`` through the tag repository, a statement per run of the
        same tag and direction (not one per member); ``(added, removed)``."""
        tags = TagRepository(self._session)
        added = removed = 0
        for (tag, add), run in groupby(changes, key=lambda change: (change[1], change[2])):
            user_ids = [user_id for user_id, _, _ in run]
            if add:
                added += len(await tags.add_many(user_ids, tag, BY, now))
            else:
                removed += len(await tags.remove_many(user_ids, tag, BY, now))
        return added, removed


def changes_between(
    wanted: dict[str, set[int]], holders: dict[str, set[int]]
) -> list[tuple[int, str, bool]]:
    """Removals first (a member moving tiers never holds two), then additions."""
    removals = [
        (user_id, tag, False)
        for tag in TIER_TAGS
        for user_id in sorted(holders.get(tag, set()) - wanted.get(tag, set()))
    ]
    additions = [
        (user_id, tag, True)
        for tag in TIER_TAGS
        for user_id in sorted(wanted.get(tag, set()) - holders.get(tag, set()))
    ]
    return removals + additions


def next_run(config: CommunityConfig, now: datetime) -> datetime:
    """The next ``tiers.run_at`` (local) after ``now``."""
    tz = config.tz
    hour, minute = (int(part) for part in config.tiers.run_at.split(":"))
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour, minute), tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tz)
    return candidate
