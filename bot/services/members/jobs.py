"""The loops of issue 4's growth part: the daily value-tier pass and the referral check.

Each runs on a :class:`~bot.ticker.Ticker` on the app's clock and opens its own transactions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.config import CommunityConfig
from bot.db.session import Database
from bot.runtime import ConfigHolder, Runtime, services_for
from bot.services.commerce.referrals import CHECK_EVERY
from bot.services.members.tiers import CHUNK, TierPass, TierService, changes_between, next_run
from bot.ticker import Ticker
from sop.clock import Clock

log = logging.getLogger(__name__)


class GrowthJobs:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: ConfigHolder,
        runtime: Callable[[], Runtime | None],
        wake_delivery: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._runtime = runtime
        self._wake_delivery = wake_delivery
        #: the last tier pass (for tests and logs)
        self.last_tiers: TierPass | None = None

    def tickers(self) -> list[Ticker]:
        return [
            Ticker("value tiers", self.run_tiers, self._clock, poll=CHECK_EVERY * 6 * 24),
            Ticker("referrals", self.run_referrals, self._clock, poll=CHECK_EVERY),
        ]

    async def run_tiers(self) -> datetime:
        """Recomputes the tier tags now; the next pass at ``tiers.run_at`` local time."""
        config = self._config.current
        now = self._clock.now()
        if config.tiers.enabled:
            self.last_tiers = await tier_pass(self._db, config, now)
            log.info(
                "value tiers: %s (+%d -%d)",
                self.last_tiers.members,
                self.last_tiers.added,
                self.last_tiers.removed,
            )
        return next_run(config, now)

    async def run_referrals(self) -> datetime:
        runtime = self._runtime()
        now = self._clock.now()
        if runtime is None or self._config.current.referral is None:
            return now + CHECK_EVERY
        async with self._db.transaction() as session:
            referrals = services_for(runtime, session).referrals
            await referrals.credit_joins(now)
        async with self._db.transaction() as session:
            referrals = services_for(runtime, session).referrals
            if await referrals.reward_due(now):
                self._wake_delivery()
            return await referrals.next_due(now)


async def tier_pass(db: Database, config: CommunityConfig, now: datetime) -> TierPass:
    """One pass: who should hold which tier (one read), then the changes in small
    transactions (removals first)."""
    async with db.transaction() as session:
        service = TierService(session, config)
        wanted = await service.wanted(now)
        holders = await service.holders()
    changes = changes_between(wanted, holders)
    result = TierPass(members={tag: len(users) for tag, users in wanted.items()})
    for start in range(0, len(changes), CHUNK):
        async with db.transaction() as session:
            added, removed = await TierService(session, config).apply(
                changes[start : start + CHUNK], now
            )
        result.added += added
        result.removed += removed
    return result
