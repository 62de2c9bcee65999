"""KPI figures from rollups, against values worked out by hand (both databases)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig
from bot.db.models import GLOBAL_CHAT, DailyRollup
from bot.db.repositories import RollupRepository
from bot.services.console.kpi import KpiPeriod, KpiService
from sop.clock import ManualClock
from tests.conftest import COMMUNITY

DAY = date(2026, 11, 20)


async def _rollups(sessions: async_sessionmaker[AsyncSession]) -> None:
    joins = [4, 4, 4, 4, 4, 4, 10, 12]  # 11-13 .. 11-20
    async with sessions() as session, session.begin():
        rollups = RollupRepository(session)
        for n, value in enumerate(joins):
            day = DAY - timedelta(days=7 - n)
            await rollups.add(COMMUNITY, day, joins=value, active_members=value * 2)
        await rollups.add(COMMUNITY, DAY, reactivated=6)
        await rollups.add(COMMUNITY, DAY - timedelta(days=1), reactivated=3)
        await rollups.add(GLOBAL_CHAT, DAY, coupons_issued=10, coupons_redeemed=4)
        await rollups.add(
            GLOBAL_CHAT, DAY - timedelta(days=1), coupons_issued=5, coupons_redeemed=1
        )
    async with sessions() as session, session.begin():
        for day, silent in ((DAY, 100), (DAY - timedelta(days=1), 80)):
            row = await session.get(DailyRollup, (COMMUNITY, day))
            assert row is not None
            row.silent_members = silent


async def test_a_day_against_the_day_before_and_the_week(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    await _rollups(sessions)
    async with sessions() as session:
        report = await KpiService(session, config).report(KpiPeriod("today", DAY, DAY), clock.now())
    c = report.communities[0]
    joins = c.figure("joins")
    assert (joins.value, joins.prev) == (12, 10)
    assert joins.avg == pytest.approx(34 / 7)
    assert joins.vs_prev == pytest.approx(0.2)
    assert joins.vs_avg == pytest.approx((12 - 34 / 7) / (34 / 7))
    assert joins.flagged  # by the average, not by +20%
    active = c.figure("active")
    assert (active.value, active.prev) == (24, 20)
    silent = c.figure("silent")  # snapshots: the mean of known days
    assert (silent.value, silent.prev, silent.avg) == (100, 80, 80)
    assert silent.vs_prev == pytest.approx(0.25) and silent.flagged
    assert (c.figure("reactivated").value, c.figure("reactivated").prev) == (6, 3)
    overall = {f.key: f for f in report.overall}
    assert overall["redemption_rate"].value == pytest.approx(0.4)
    assert overall["redemption_rate"].prev == pytest.approx(0.2)
    assert overall["coupons_redeemed"].avg == pytest.approx(1 / 7)


async def test_the_week_against_the_week_before(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    await _rollups(sessions)
    async with sessions() as session:
        report = await KpiService(session, config).report(
            KpiPeriod("7d", DAY - timedelta(days=6), DAY), clock.now()
        )
    joins = report.communities[0].figure("joins")
    assert (joins.value, joins.prev, joins.avg) == (4 * 5 + 10 + 12, 4, None)
    assert not report.has_avg
    # active members: a daily mean over the week
    assert report.communities[0].figure("active").value == pytest.approx((8 * 5 + 20 + 24) / 7)


async def test_days_over_are_kept_once_and_read_back_alike(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    from datetime import datetime

    from bot.db.models import KpiDay, Member, Membership, Question

    tz = config.tz
    start = datetime(2026, 11, 17, 10, 0, tzinfo=tz)  # three days before "today"
    async with sessions() as session, session.begin():
        for n, greeted_after in enumerate((60, 600, 3600, None)):  # 2 in time, 1 late, 1 never
            session.add(Member(user_id=700 + n, first_name="m", first_seen_at=start))
            await session.flush()
            session.add(
                Membership(
                    chat_id=COMMUNITY,
                    user_id=700 + n,
                    joined_at=start,
                    welcomed_at=None
                    if greeted_after is None
                    else start + timedelta(seconds=greeted_after),
                )
            )
        for n, seconds in enumerate((30, 90, 400)):
            session.add(
                Question(
                    chat_id=COMMUNITY,
                    message_id=n,
                    user_id=700,
                    asked_at=start,
                    deadline=start + timedelta(minutes=5),
                    status="answered",
                    response_seconds=seconds,
                )
            )
    period = KpiPeriod("day", date(2026, 11, 17), date(2026, 11, 17))
    reports = []
    for _ in range(2):
        async with sessions() as session, session.begin():
            reports.append(await KpiService(session, config).report(period, clock.now()))
    async with sessions() as session:
        kept = await session.get(KpiDay, (COMMUNITY, date(2026, 11, 17)))
    assert kept is not None
    assert (kept.welcome_due, kept.welcome_in_time, kept.questions_due) == (4, 2, 3)
    assert kept.response_times == [30, 90, 400]
    for report in reports:
        c = report.communities[0]
        assert c.figure("welcome_sla").detail == "2/4"
        assert c.figure("response_within").detail == "2/3"
        assert c.figure("response_median").value == pytest.approx(90 / 60)
