"""The value-tier pass on SQLite and PostgreSQL: who is high value, potential or silent, tags
moved through the tag repository (with history), nothing changed by a second pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, parse_config
from bot.db.models import Coupon, Member, MemberTag, Order
from bot.db.session import Database
from bot.services.members.jobs import tier_pass
from bot.services.members.tiers import HIGH_VALUE, POTENTIAL, SILENT, next_run
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML

TIERS_YAML = (
    CONFIG_YAML
    + """
tiers:
  high_value:
    spend_over: 1000
    repurchase_rate_over: 0.5
  run_at: "04:30"
"""
)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(TIERS_YAML, "test_tiers")


async def _seed(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    day = timedelta(days=1)
    seen = {1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 100, 7: 100, 8: 89}
    orders: list[tuple[int, int, int]] = [  # user, amount (minor), days ago
        (1, 150000, 30),  # 1500 this year: high value
        (3, 200000, 400),  # 2000, but 13 months ago: bought, not high
        (7, 120000, 200),  # high value although silent
    ]
    orders += [(2, 1000, 15 + 30 * k) for k in range(7)]  # 70 in all, in 7 of 13 periods
    orders += [(8, 1000, 40)]  # one small order
    async with sessions() as session, session.begin():
        for uid, days in seen.items():
            session.add(
                Member(
                    user_id=uid,
                    first_name=f"M{uid}",
                    first_seen_at=now - 400 * day,
                    last_seen_at=now - days * day,
                )
            )
        await session.flush()
        for index, (uid, amount, ago) in enumerate(orders):
            session.add(
                Order(
                    order_id=f"O{index}",
                    user_id=uid,
                    amount_minor=amount,
                    ordered_at=now - ago * day,
                    received_at=now,
                    via="import",
                )
            )
        session.add(
            Coupon(
                code="AAAAA-BBBBB-CCCCC",
                campaign="newcomer",
                user_id=5,
                issued_by="welcome",
                issued_at=now - 20 * day,
                expires_at=now + 20 * day,
                redeemed_at=now - 19 * day,
                redeemed_via="operator",
            )
        )
        session.add(
            Coupon(
                code="AAAAA-BBBBB-DDDDD",
                campaign="newcomer",
                user_id=4,
                issued_by="welcome",
                issued_at=now - 20 * day,
                expires_at=now + 20 * day,
            )
        )  # issued, never redeemed


async def _tags(sessions: async_sessionmaker[AsyncSession]) -> dict[int, set[str]]:
    async with sessions() as session:
        rows = (await session.execute(select(MemberTag.user_id, MemberTag.tag))).all()
    tags: dict[int, set[str]] = {}
    for uid, tag in rows:
        tags.setdefault(uid, set()).add(tag)
    return tags


async def test_the_pass_tags_each_tier(
    database_url: str, config: CommunityConfig, clock: ManualClock
) -> None:
    from bot.db.migrate import upgrade

    db = Database(database_url)
    try:
        await upgrade(db.engine)
        now = clock.now()
        await _seed(db.sessions, now)
        first = await tier_pass(db, config, now)
        assert await _tags(db.sessions) == {
            1: {HIGH_VALUE},
            2: {HIGH_VALUE},
            4: {POTENTIAL},
            6: {SILENT},
            7: {HIGH_VALUE},
        }
        assert first.members == {HIGH_VALUE: 3, POTENTIAL: 1, SILENT: 1}
        assert (first.added, first.removed) == (5, 0)

        again = await tier_pass(db, config, now)
        assert (again.added, again.removed) == (0, 0)

        later = now + timedelta(days=2)
        async with db.sessions() as session, session.begin():
            session.add(
                Order(
                    order_id="late",
                    user_id=4,
                    amount_minor=500,
                    ordered_at=later,
                    received_at=later,
                    via="api",
                )
            )  # 4 buys
            six = await session.get(Member, 6)
            assert six is not None
            six.last_seen_at = later  # 6 speaks again
        moved = await tier_pass(db, config, later)
        # 8: last seen 91 days ago by now, silent; 4 bought: no longer potential; 6 is back
        # and has never bought: potential
        assert await _tags(db.sessions) == {
            1: {HIGH_VALUE},
            2: {HIGH_VALUE},
            6: {POTENTIAL},
            7: {HIGH_VALUE},
            8: {SILENT},
        }
        assert (moved.added, moved.removed) == (2, 2)
        from bot.db.repositories import TagRepository

        async with db.sessions() as session:
            history = await TagRepository(session).history(6)
        assert [(event.tag, event.by) for event in history][:2] in (
            [(POTENTIAL, "tiers"), (SILENT, "tiers")],
            [(SILENT, "tiers"), (POTENTIAL, "tiers")],
        )
    finally:
        await db.dispose()


async def test_spend_alone_or_rate_alone(database_url: str, clock: ManualClock) -> None:
    from bot.db.migrate import upgrade

    only_spend = parse_config(CONFIG_YAML + "tiers:\n  high_value:\n    spend_over: 50\n", "t")
    db = Database(database_url)
    try:
        await upgrade(db.engine)
        now = clock.now()
        await _seed(db.sessions, now)
        await tier_pass(db, only_spend, now)
        tags = await _tags(db.sessions)
        # 2 spent 70 (over 50), 8 spent 10: not high value (and not potential: it bought)
        assert HIGH_VALUE in tags[2] and 8 not in tags
    finally:
        await db.dispose()


def test_the_daily_pass_runs_at_the_local_time(config: CommunityConfig) -> None:
    # 09:00 Shanghai → next 04:30 Shanghai is tomorrow 20:30 UTC today
    assert next_run(config, datetime(2026, 11, 20, 1, 0, tzinfo=UTC)) == datetime(
        2026, 11, 20, 20, 30, tzinfo=UTC
    )
    assert next_run(config, datetime(2026, 11, 20, 20, 30, tzinfo=UTC)) == datetime(
        2026, 11, 21, 20, 30, tzinfo=UTC
    )


def test_tier_config_is_checked() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        parse_config(CONFIG_YAML + "tiers:\n  high_value:\n    repurchase_rate_over: 2\n", "t")
    assert error.value.key == "tiers.high_value.repurchase_rate_over"
    with pytest.raises(ConfigError) as error:
        parse_config(CONFIG_YAML + "tiers:\n  run_at: '25:00'\n", "t")
    assert error.value.key == "tiers.run_at"
    with pytest.raises(ConfigError) as error:
        parse_config(CONFIG_YAML + "referral:\n  coupon: nope\n", "t")
    assert error.value.key == "referral.coupon"
