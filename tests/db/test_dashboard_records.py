"""The dashboard's coupons, broadcasts, audit log, tickets and moderation lists, against the
small world of tests/dashboard_world.py and the commands' own figures (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repositories.coupons import CouponRepository
from bot.services.dashboard import records as records_module
from bot.services.dashboard.broadcasts import BroadcastsQuery
from bot.services.dashboard.coupons import CouponsQuery
from bot.services.dashboard.records import RecordsQuery
from sop.clock import ManualClock
from tests.dashboard_world import WORLD, build_world, world_config


async def test_campaign_conversion_is_coupon_stats_by_source_and_period(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await build_world(sessions, clock.now())
    config = world_config()
    async with sessions() as session:
        ever = await CouponsQuery(session, config).conversion(None, clock.now())
        recent = await CouponsQuery(session, config).conversion(3, clock.now())
        stats = await CouponRepository(session).conversion()
    (newcomer,) = ever.campaigns
    gifted = [p for p in WORLD if p.gifted]
    assert (newcomer.campaign, newcomer.title) == ("newcomer", "新人礼包")
    assert (newcomer.issued, newcomer.redeemed) == (
        len(gifted) + 1,
        sum(p.redeemed for p in gifted),
    )
    assert newcomer.sources == stats
    assert {(r.source, r.issued, r.redeemed) for r in newcomer.sources} == {
        ("hook", 1, 0),
        ("welcome", len(gifted), sum(p.redeemed for p in gifted)),
    }
    assert newcomer.rate == pytest.approx(newcomer.redeemed / newcomer.issued)
    # the last 3 local days: from midnight two days ago (the hook's code is three days old)
    assert recent.campaigns[0].issued == sum(1 for p in gifted if p.days_ago <= 2)


async def test_broadcast_history_with_progress_and_ab_results(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await build_world(sessions, clock.now())
    async with sessions() as session:
        page = await BroadcastsQuery(session).page(clock.now())
        one = await BroadcastsQuery(session).one(page.rows[0].id, clock.now())
        missing = await BroadcastsQuery(session).one(10_000, clock.now())
    (line,) = page.rows
    assert not page.has_more and missing is None and one is not None
    assert line.variants == [] and one.tally == line.tally
    assert (line.state, line.percent, line.eta, line.ab) == ("done", 100, "", True)
    assert (line.tally.sent, line.tally.blocked, line.tally.total) == (2, 1, 3)
    assert [(v.variant, v.recipients, v.delivered) for v in one.variants] == [
        ("a", 2, 1),
        ("b", 1, 1),
    ]


async def test_the_audit_log_a_page_at_a_time(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_world(sessions, clock.now())
    monkeypatch.setattr(records_module, "AUDIT_PER_PAGE", 3)
    async with sessions() as session:
        first = await RecordsQuery(session, world_config()).audit(1)
        second = await RecordsQuery(session, world_config()).audit(2)
    assert [r.command for r in first.rows + second.rows] == ["audit", "sop", "tag", "kpi"]
    assert (first.has_more, second.has_more) == (True, False)
    assert {r.where for r in first.rows} == {"DM"} and first.rows[0].who == "Olga (@olga)"


async def test_tickets_overdue_first_and_moderation_of_today(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    await build_world(sessions, now)
    async with sessions() as session:
        tickets = await RecordsQuery(session, world_config()).tickets(now)
        moderation = await RecordsQuery(session, world_config()).moderation(now)
        tomorrow = await RecordsQuery(session, world_config()).moderation(now + timedelta(days=1))
    assert tickets.total == 2 and tickets.overdue == 1
    assert [(t.who, t.status, t.overdue, t.waiting_minutes) for t in tickets.rows] == [
        ("Ann @ann", "open", True, 30),
        ("李雷 @lilei", "answered", False, None),
    ]
    assert [(a.action, a.rule, a.where) for a in moderation.actions] == [
        ("delete", "banned_word", "Demo community"),
        ("mute", "flood", "Demo community"),
    ]
    assert moderation.actions_today == {"delete": 1, "mute": 1}
    assert tomorrow.actions_today == {} and moderation.alerts_today == {}


async def test_snapshots_keep_the_figures_fresh_for_what_operators_look_at(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    from bot.db.models import Member
    from bot.services.dashboard.snapshots import FRESH, REFRESH_EVERY, WATCHED, Snapshots
    from bot.services.dashboard.sources import SourcesQuery

    await build_world(sessions, clock.now())
    config = world_config()

    async def seen(days: int = 90) -> tuple[int, object]:
        async with sessions() as session, session.begin():
            snaps = Snapshots(session, SourcesQuery(session, config), CouponsQuery(session, config))
            kept = await snaps.sources(days, clock.now())
            coupons = await snaps.coupons(days, clock.now())
        assert coupons.figures.campaigns[0].issued == 6
        return kept.figures.total.joined, kept.computed_at

    async def refresh() -> int:
        async with sessions() as session, session.begin():
            snaps = Snapshots(session, SourcesQuery(session, config), CouponsQuery(session, config))
            return await snaps.refresh(clock.now())

    first = clock.now()
    assert await seen() == (len(WORLD), first)
    async with sessions() as session, session.begin():
        session.add(Member(user_id=77, first_name="New", first_seen_at=clock.now()))
    clock.advance(seconds=60)
    assert await seen() == (len(WORLD), first)  # under FRESH: the snapshot
    assert await refresh() == 0  # worked out less than REFRESH_EVERY ago
    clock.advance(seconds=REFRESH_EVERY.total_seconds())
    assert await refresh() == 2  # sources:90 and coupons:90, looked at within WATCHED
    assert await seen() == (len(WORLD) + 1, clock.now())
    clock.advance(seconds=(WATCHED + FRESH).total_seconds())
    assert await refresh() == 0  # nobody looked for an hour: left alone
    assert (await seen())[1] == clock.now()  # too old to show: worked out at once
