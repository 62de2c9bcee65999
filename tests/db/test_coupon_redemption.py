"""Coupon redemption on SQLite and PostgreSQL: exactly once under real concurrency, typed
reasons, normalised input, the redeemed counter, conversion per campaign and source."""

from __future__ import annotations

import asyncio
import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, parse_config
from bot.db.models import GLOBAL_CHAT, IssuedBy, Member, Via
from bot.db.repositories import CouponRepository, RollupRepository
from bot.errors import CouponError
from bot.services.commerce.coupons import (
    ALPHABET,
    CampaignBudgetSpentError,
    CampaignEndedError,
    CouponAlreadyRedeemedError,
    CouponCapReachedError,
    CouponService,
    ExpiredCouponError,
    Redeemed,
    UnknownCouponError,
    new_code,
    normalize_code,
)
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML

CAMPAIGNS = (
    CONFIG_YAML
    + """
  spring:
    title: Spring sale
    discount: "10 off"
    valid_days: 30
    budget: 2
  ending:
    title: Ends soon
    discount: "5%"
    valid_days: 30
    valid_until: 2026-11-22
"""
)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(CAMPAIGNS, "test")


async def _member(sessions: async_sessionmaker[AsyncSession], user_id: int, now: datetime) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(user_id=user_id, first_name=f"M{user_id}", first_seen_at=now))


async def _issue(
    sessions: async_sessionmaker[AsyncSession],
    config: CommunityConfig,
    user_id: int,
    campaign: str,
    now: datetime,
    by: IssuedBy = IssuedBy.WELCOME,
) -> str:
    async with sessions() as session, session.begin():
        coupon = await CouponService(session, config).issue(
            user_id, campaign, issued_by=by, now=now
        )
        return coupon.code


def test_codes_carry_at_least_64_bits_in_a_readable_alphabet() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    code = new_code()
    symbols = code.replace("-", "")
    assert len(symbols) * math.log2(len(ALPHABET)) >= 64
    assert set(symbols) <= set(ALPHABET)
    assert len({new_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize(
    "typed",
    [
        "abcde-fghjk-mnpqr",
        " ABCDEFGHJKMNPQR ",
        "abcde fghjk mnpqr",
        "ＡＢＣＤＥ－ＦＧＨＪＫ－ＭＮＰＱＲ",
        "ABCDE—FGHJK—MNPQR",
        "ab-cde-fghj-kmnpqr",
    ],
)
def test_typed_codes_are_normalised(typed: str) -> None:
    assert normalize_code(typed) == "ABCDE-FGHJK-MNPQR"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCDE-FGHJK",
        "ABCDE-FGHJK-MNPQO",
        "ABCDE-FGHJK-MNPQ1",
        "ABCDE-FGHJK-MNPQRS",
        "<b>x</b>",
        "ABCDE-FGHJK-MNPQ😀",
    ],
)
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    assert normalize_code(typed) is None


async def test_two_concurrent_redemptions_exactly_one_wins(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    await _member(sessions, 11, now)
    code = await _issue(sessions, config, 11, "newcomer", now)
    started = asyncio.Barrier(6)

    async def attempt(via: Via) -> Redeemed | CouponError:
        # each attempt in its own session and transaction, all open at the same moment
        async with sessions() as session, session.begin():
            await started.wait()
            try:
                result: Redeemed | CouponError = await CouponService(session, config).redeem(
                    code.lower(), now, via=via
                )
            except CouponError as error:
                return error
            await asyncio.sleep(0.05)  # the winner holds its transaction open a while
            return result

    outcomes = await asyncio.gather(
        *(attempt((Via.OPERATOR, Via.API, Via.IMPORT)[i % 3]) for i in range(6))
    )
    wins = [o for o in outcomes if isinstance(o, Redeemed)]
    assert len(wins) == 1, outcomes
    assert all(isinstance(o, CouponAlreadyRedeemedError) for o in outcomes if o not in wins)
    async with sessions() as session:
        coupon = await CouponRepository(session).by_code(code)
        rollup = await RollupRepository(session).get(GLOBAL_CHAT, date(2026, 11, 20))
    assert coupon is not None and coupon.redeemed_via == wins[0].via
    assert rollup is not None and rollup.coupons_redeemed == 1


async def test_reasons_unknown_expired_used(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    await _member(sessions, 12, now)
    code = await _issue(sessions, config, 12, "newcomer", now)  # valid 7 days
    async with sessions() as session, session.begin():
        service = CouponService(session, config)
        with pytest.raises(UnknownCouponError) as unknown:
            await service.redeem("ABCDE-FGHJK-MNPQR", now, via=Via.OPERATOR)
        assert not unknown.value.malformed
        with pytest.raises(UnknownCouponError) as malformed:
            await service.redeem("HELLO-0000", now, via=Via.OPERATOR)
        assert malformed.value.malformed and "0, O, 1, I" in malformed.value.reason
        later = now + timedelta(days=7, seconds=1)
        with pytest.raises(ExpiredCouponError) as expired:
            await service.redeem(code, later, via=Via.OPERATOR)
        assert expired.value.expired_at == now + timedelta(days=7)
        redeemed = await service.redeem(
            code.replace("-", " "), now + timedelta(hours=1), via=Via.API, order_id="A-1"
        )
        assert (redeemed.campaign, redeemed.user_id, redeemed.order_id) == ("newcomer", 12, "A-1")
        with pytest.raises(CouponAlreadyRedeemedError) as used:
            await service.redeem(code, now + timedelta(hours=2), via=Via.OPERATOR)
        assert used.value.redeemed_at == now + timedelta(hours=1)
        assert "api" in used.value.reason


async def test_at_the_cap_the_last_code_again_only_while_it_can_be_used(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    # newcomer: per_member 1, valid 7 days. A hook or the gift asked for again shows the code
    # the member has; a used or expired one is not worth showing: nothing to give
    now = clock.now()
    for uid in (14, 15):
        await _member(sessions, uid, now)
    code = await _issue(sessions, config, 14, "newcomer", now)
    assert await _issue(sessions, config, 14, "newcomer", now + timedelta(days=1)) == code
    async with sessions() as session, session.begin():
        await CouponService(session, config).redeem(code, now + timedelta(days=2), via=Via.API)
    with pytest.raises(CouponCapReachedError):
        await _issue(sessions, config, 14, "newcomer", now + timedelta(days=3), by=IssuedBy.HOOK)
    unused = await _issue(sessions, config, 15, "newcomer", now)
    assert await _issue(sessions, config, 15, "newcomer", now + timedelta(days=6)) == unused
    with pytest.raises(CouponCapReachedError):
        await _issue(sessions, config, 15, "newcomer", now + timedelta(days=7), by=IssuedBy.HOOK)


async def test_redemption_counts_on_the_local_day(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()  # 09:00 Shanghai, 01:00 UTC
    await _member(sessions, 13, now)
    code = await _issue(sessions, config, 13, "newcomer", now)
    late = now + timedelta(hours=15, minutes=30)  # 00:30 on the 21st in Shanghai, 16:30 UTC
    async with sessions() as session, session.begin():
        await CouponService(session, config).redeem(code, late, via=Via.OPERATOR)
    async with sessions() as session:
        rollups = RollupRepository(session)
        day20 = await rollups.get(GLOBAL_CHAT, date(2026, 11, 20))
        day21 = await rollups.get(GLOBAL_CHAT, date(2026, 11, 21))
    assert day20 is not None and day20.coupons_redeemed == 0
    assert day21 is not None and day21.coupons_redeemed == 1


async def test_budget_and_valid_until(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    for uid in (21, 22, 23):
        await _member(sessions, uid, now)
    await _issue(sessions, config, 21, "spring", now)
    await _issue(sessions, config, 22, "spring", now)
    with pytest.raises(CampaignBudgetSpentError):
        await _issue(sessions, config, 23, "spring", now)
    code = await _issue(sessions, config, 23, "ending", now)
    async with sessions() as session:
        coupon = await CouponRepository(session).by_code(code)
    assert coupon is not None  # the end of 2026-11-22 in Shanghai, not 30 days
    assert coupon.expires_at == datetime.fromisoformat("2026-11-22T16:00:00+00:00")
    with pytest.raises(CampaignEndedError):
        await _issue(sessions, config, 21, "ending", now + timedelta(days=3))


async def test_conversion_per_campaign_and_source(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    codes = []
    for uid in range(31, 36):
        await _member(sessions, uid, now)
        codes.append(
            await _issue(
                sessions,
                config,
                uid,
                "newcomer",
                now,
                by=IssuedBy.WELCOME if uid < 34 else IssuedBy.OPERATOR,
            )
        )
    await _issue(sessions, config, 31, "spring", now, by=IssuedBy.HOOK)
    async with sessions() as session, session.begin():
        service = CouponService(session, config)
        for code in (codes[0], codes[1], codes[3]):
            await service.redeem(code, now, via=Via.OPERATOR)
    async with sessions() as session:
        rows = await CouponRepository(session).conversion(
            now - timedelta(days=1), now + timedelta(days=1)
        )
        none_yet = await CouponRepository(session).conversion(now + timedelta(seconds=1), None)
        spring = await CouponRepository(session).conversion(campaign="spring")
    assert [(r.campaign, r.source, r.issued, r.redeemed) for r in rows] == [
        ("newcomer", "operator", 2, 1),
        ("newcomer", "welcome", 3, 2),
        ("spring", "hook", 1, 0),
    ]
    assert rows[1].rate == pytest.approx(2 / 3)
    assert none_yet == []
    assert [(r.campaign, r.issued) for r in spring] == [("spring", 1)]


async def test_concurrent_issues_to_one_member_respect_the_cap(
    database_url: str, config: CommunityConfig, clock: ManualClock
) -> None:
    """The app's own transactions (side by side on PostgreSQL, in turn on SQLite)."""
    from bot.db.migrate import upgrade
    from bot.db.session import Database

    db = Database(database_url)
    try:
        await upgrade(db.engine)
        now = clock.now()
        await _member(db.sessions, 51, now)
        barrier = asyncio.Barrier(4)

        async def issue() -> str:
            await barrier.wait()
            async with db.transaction() as session:
                coupon = await CouponService(session, config).issue(
                    51, "newcomer", issued_by=IssuedBy.HOOK, now=now
                )
                await asyncio.sleep(0.02)
                return coupon.code

        codes = await asyncio.gather(*(issue() for _ in range(4)))
        assert len(set(codes)) == 1  # per_member: 1, one code for all
        async with db.sessions() as session:
            assert len(await CouponRepository(session).for_member(51, "newcomer")) == 1
    finally:
        await db.dispose()


async def test_concurrent_issues_never_overrun_the_budget(
    database_url: str, config: CommunityConfig, clock: ManualClock
) -> None:
    from bot.db.migrate import upgrade
    from bot.db.session import Database

    db = Database(database_url)
    try:
        await upgrade(db.engine)
        now = clock.now()
        for uid in range(61, 67):
            await _member(db.sessions, uid, now)
        barrier = asyncio.Barrier(6)

        async def issue(uid: int) -> bool:
            await barrier.wait()
            try:
                async with db.transaction() as session:
                    await CouponService(session, config).issue(
                        uid, "spring", issued_by=IssuedBy.HOOK, now=now
                    )
                    await asyncio.sleep(0.02)
            except CampaignBudgetSpentError:
                return False
            return True

        issued = await asyncio.gather(*(issue(uid) for uid in range(61, 67)))
        assert sum(issued) == 2  # budget: 2
        async with db.sessions() as session:
            assert await CouponRepository(session).issued_count("spring") == 2
    finally:
        await db.dispose()
