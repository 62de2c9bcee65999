"""Lifecycle stages, tag history, behaviour rules, segments, win-back selection and DMs to a
segment — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, parse_config
from bot.db.models import (
    ActivityDaily,
    Coupon,
    DailyRollup,
    Member,
    Membership,
    MemberTag,
    OutboxMessage,
)
from bot.db.models.tags import MemberStage, TagEvent
from bot.db.repositories import TagRepository
from bot.rendering import build_renderer
from bot.runtime import engine_for
from bot.services import BotIdentity, Services
from bot.services.dto import GroupMessage, Person
from bot.services.members.segments import SegmentService
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML

YAML = (
    CONFIG_YAML
    + """
  winback:
    title: 回归礼
    discount: "30%"
    valid_days: 14
    per_member: 10
tags:
  interests:
    coffee: [咖啡, latte]
  rules:
    - tag: chatty
      metric: messages
      at_least: 5
      days: 7
  manual: [vip]
segments:
  coffee_fans:
    tags: [interest:coffee]
    reachable: true
  quiet_vips:
    any_tags: [vip, tier:high_value]
    lifecycle: [silent, churned]
winback:
  coupon: winback
  caps: {potential: 7d, high_value: 15d, silent: 90d, other: 30d}
"""
)

DAY = timedelta(days=1)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(YAML, "tests/db/test_lifecycle.py")


@pytest.fixture
def services(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig
) -> Callable[[], AsyncIterator[Services]]:
    engine, renderer = engine_for(config), build_renderer(config, Path("."))

    @asynccontextmanager
    async def open_services() -> AsyncIterator[Services]:
        async with sessions() as session, session.begin():
            yield Services.create(
                session, config, engine, renderer, BotIdentity(id=1, username="sopbot"), Path(".")
            )

    return open_services  # type: ignore[return-value]


async def _member(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    *,
    first_seen: datetime,
    last_seen: datetime | None = None,
    reachable: bool = True,
    in_community: bool = True,
    language: str | None = "zh",
) -> None:
    async with sessions() as session, session.begin():
        session.add(
            Member(
                user_id=user_id,
                first_name=f"m{user_id}",
                first_seen_at=first_seen,
                last_seen_at=last_seen,
                dm_allowed=reachable,
                language_code=language,
            )
        )
        await session.flush()
        if in_community:
            session.add(Membership(chat_id=COMMUNITY, user_id=user_id, joined_at=first_seen))


async def _stages(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as session:
        rows = (await session.execute(select(MemberStage.user_id, MemberStage.stage))).all()
    return {int(u): s for u, s in rows}


def _message(user_id: int, text: str, at: datetime) -> GroupMessage:
    return GroupMessage(
        chat_id=COMMUNITY,
        message_id=int(at.timestamp()) % 10**6,
        person=Person(user_id, f"m{user_id}"),
        text=text,
        sent_at=at,
    )


async def test_daily_pass_moves_members_through_the_stages_with_history(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now()  # 09:00 Shanghai; the pass is due at 10:00
    await _member(sessions, 1, first_seen=now - 40 * DAY, last_seen=now - 2 * DAY)  # active
    await _member(sessions, 2, first_seen=now - 3 * DAY)  # new
    await _member(sessions, 3, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)  # silent
    await _member(sessions, 4, first_seen=now - 200 * DAY, last_seen=now - 95 * DAY)  # churned
    await _member(sessions, 5, first_seen=now - 31 * DAY)  # silent
    async with services() as s:  # type: ignore[attr-defined]
        assert await s.lifecycle.daily_pass(now) is None  # 09:00: not yet
    clock.advance(hours=1)
    async with services() as s:  # type: ignore[attr-defined]
        result = await s.lifecycle.daily_pass(clock.now())
    assert result is not None and result.moved == 5
    assert await _stages(sessions) == {
        1: "active",
        2: "new",
        3: "silent",
        4: "churned",
        5: "silent",
    }
    assert result.silent == {COMMUNITY: 2}
    async with services() as s:  # type: ignore[attr-defined]
        assert await s.lifecycle.daily_pass(clock.now() + timedelta(hours=3)) is None  # done

    clock.advance(days=6)  # member 1 last spoke 8 days ago now; member 2 is still new
    async with services() as s:  # type: ignore[attr-defined]
        result = await s.lifecycle.daily_pass(clock.now())
    assert result is not None and result.moved == 1
    assert (await _stages(sessions))[1] == "silent"
    async with sessions() as session:
        history = (
            await session.execute(
                select(TagEvent.tag, TagEvent.action)
                .where(TagEvent.user_id == 1)
                .order_by(TagEvent.id)
            )
        ).all()
        movements = await TagRepository(session).movements(clock.now() - DAY, clock.now() + DAY)
        rollup = await session.get(DailyRollup, (COMMUNITY, clock.now().date()))
    assert [tuple(row) for row in history] == [
        ("lifecycle:active", "added"),
        ("lifecycle:active", "removed"),
        ("lifecycle:silent", "added"),
    ]
    assert movements == {"lifecycle:active": (0, 1), "lifecycle:silent": (1, 0)}
    assert rollup is not None and rollup.silent_members == 3


async def test_a_message_reactivates_a_silent_member_once_and_tags_interests(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now() + timedelta(hours=1)
    await _member(sessions, 1, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)
    await _member(sessions, 2, first_seen=now - 2 * DAY)
    async with services() as s:  # type: ignore[attr-defined]
        await s.lifecycle.daily_pass(now)
    for user_id in (1, 1, 2):
        async with services() as s:  # type: ignore[attr-defined]
            await s.community.on_message(_message(user_id, "来杯咖啡吧 latte!", now), now)
    assert await _stages(sessions) == {1: "active", 2: "active"}
    async with sessions() as session:
        rollup = await session.get(DailyRollup, (COMMUNITY, now.date()))
        tags = (await session.execute(select(MemberTag.user_id, MemberTag.tag))).all()
        reasons = (
            (
                await session.execute(
                    select(TagEvent.by).where(
                        TagEvent.tag == "lifecycle:active", TagEvent.action == "added"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert rollup is not None and rollup.reactivated == 1  # member 1 only, once
    assert sorted(tuple(t) for t in tags) == [(1, "interest:coffee"), (2, "interest:coffee")]
    assert sorted(reasons) == ["message", "reactivated"]


async def test_behaviour_rule_tags_follow_the_window(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now() + timedelta(hours=1)
    await _member(sessions, 1, first_seen=now - 60 * DAY, last_seen=now - DAY)
    await _member(sessions, 2, first_seen=now - 60 * DAY, last_seen=now - DAY)
    today = now.date()
    async with sessions() as session, session.begin():
        session.add(ActivityDaily(chat_id=COMMUNITY, user_id=1, day=today - 1 * DAY, messages=5))
        session.add(ActivityDaily(chat_id=COMMUNITY, user_id=2, day=today - 1 * DAY, messages=4))
        session.add(
            ActivityDaily(chat_id=COMMUNITY, user_id=2, day=today - 30 * DAY, messages=50)
        )  # outside the 7-day window
        await TagRepository(session).add(2, "chatty", "op:1001", now)  # by hand: kept
    async with services() as s:  # type: ignore[attr-defined]
        result = await s.lifecycle.daily_pass(now)
    assert result is not None and result.rules == {"chatty": (1, 0)}
    async with services() as s:  # type: ignore[attr-defined]
        result = await s.lifecycle.daily_pass(now + 8 * DAY)  # the 5 messages left the window
    assert result is not None and result.rules == {"chatty": (0, 1)}
    async with sessions() as session:
        tagged = (
            (await session.execute(select(MemberTag.user_id).where(MemberTag.tag == "chatty")))
            .scalars()
            .all()
        )
    assert tagged == [2]


async def test_segments_combine_tags_stages_and_reachability(
    sessions: async_sessionmaker[AsyncSession],
    services: Callable[..., object],
    config: CommunityConfig,
    clock: ManualClock,
) -> None:
    now = clock.now() + timedelta(hours=1)
    await _member(sessions, 1, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)
    await _member(sessions, 2, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY, reachable=False)
    await _member(sessions, 3, first_seen=now - 2 * DAY)
    async with sessions() as session, session.begin():
        tags = TagRepository(session)
        await tags.add(1, "vip", "op:1001", now)
        await tags.add(2, "tier:high_value", "tiers", now)
        await tags.add(2, "interest:coffee", "interest", now)
        await tags.add(3, "interest:coffee", "interest", now)
    async with services() as s:  # type: ignore[attr-defined]
        await s.lifecycle.daily_pass(now)
    async with sessions() as session:
        segments = SegmentService(session, config)
        sizes = dict(await segments.sizes(now))
        quiet = (await session.execute(segments.user_ids("quiet_vips", now))).scalars().all()
    assert sizes == {
        "all": 3,
        "reachable": 2,
        "new": 1,
        "active": 0,
        "silent": 2,
        "churned": 0,
        "coffee_fans": 1,
        "quiet_vips": 2,
    }
    assert sorted(quiet) == [1, 2]


async def test_winback_respects_reachability_and_the_caps_per_tier(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now() + timedelta(hours=1)
    for user_id in (1, 2, 3):
        await _member(sessions, user_id, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)
    await _member(sessions, 4, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY, reachable=False)
    await _member(sessions, 5, first_seen=now - 60 * DAY, last_seen=now - DAY)  # active
    async with sessions() as session, session.begin():
        await TagRepository(session).add(1, "tier:potential", "tiers", now)
        await TagRepository(session).add(2, "tier:high_value", "tiers", now)

    async def day_at(at: datetime) -> list[int]:
        async with services() as s:  # type: ignore[attr-defined]
            assert await s.lifecycle.daily_pass(at) is not None
        async with services() as s:  # type: ignore[attr-defined]
            await s.lifecycle.winback_batch(at, 0)
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.chat_id).where(
                        OutboxMessage.purpose == "winback", OutboxMessage.created_at == at
                    )
                )
            ).scalars()
            return sorted(rows.all())

    assert await day_at(now) == [1, 2, 3]
    # potential: weekly; member 5 has now been silent for 8 days: their first
    assert await day_at(now + 7 * DAY) == [1, 5]
    assert await day_at(now + 15 * DAY) == [1, 2]  # high value: every 15 days
    assert await day_at(now + 30 * DAY) == [1, 2, 3]  # no tier: monthly
    async with sessions() as session:
        coupons = (
            await session.execute(
                select(func.count()).select_from(Coupon).where(Coupon.issued_by == "winback")
            )
        ).scalar_one()
    assert coupons == 3 + 2 + 2 + 3


async def test_dms_to_a_segment_are_queued_once_per_member_in_their_language(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now()
    await _member(sessions, 1, first_seen=now - DAY, language="en-US")
    await _member(sessions, 2, first_seen=now - DAY, language=None)
    await _member(sessions, 3, first_seen=now - DAY, reachable=False)
    for expected in (2, 0):  # the second time: already queued, nothing more
        async with services() as s:  # type: ignore[attr-defined]
            queued = await s.schedules._targets.send(
                schedule_id="tip",
                target="reachable",
                template="guide",
                fire_at=now,
                context={"day": "2026-11-20", "late": False},
                now=now,
            )
        assert queued == expected
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert sorted(r.chat_id for r in rows) == [1, 2]
    texts = {r.chat_id: r.payload["text"] for r in rows}
    assert texts[1] != texts[2]  # English for en-US, the default (zh) for the unknown


async def test_two_instances_run_the_daily_pass_once(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    now = clock.now() + timedelta(hours=1)
    for user_id in range(1, 21):
        await _member(sessions, user_id, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)

    async def run() -> bool:
        async with services() as s:  # type: ignore[attr-defined]
            return await s.lifecycle.daily_pass(now) is not None

    results = await asyncio.gather(run(), run())
    assert sorted(results) == [False, True]
    async with sessions() as session:
        events = (await session.execute(select(func.count()).select_from(TagEvent))).scalar_one()
    assert events == 20


async def test_winback_sends_no_spent_code_when_the_campaign_cap_is_reached(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    config = parse_config(YAML.replace("per_member: 10", "per_member: 1"), "test")
    engine, renderer = engine_for(config), build_renderer(config, Path("."))
    now = clock.now() + timedelta(hours=1)
    await _member(sessions, 1, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)

    async def day_at(at: datetime) -> int:
        async with sessions() as session, session.begin():
            s = Services.create(session, config, engine, renderer, BotIdentity(1, "b"), Path("."))
            assert await s.lifecycle.daily_pass(at) is not None
            return await s.lifecycle.winback_batch(at, 0)

    assert await day_at(now) == 1
    async with sessions() as session, session.begin():
        coupon = (await session.execute(select(Coupon))).scalar_one()
        coupon.redeemed_at = now + DAY
    assert await day_at(now + 30 * DAY) == 0  # the only code it may have is used
    async with sessions() as session:
        stage = await session.get(MemberStage, 1)
        dms = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    assert stage is not None and stage.winback_at == now + 30 * DAY and dms == 1


async def test_the_pass_never_demotes_a_member_whose_message_it_did_not_see(
    sessions: async_sessionmaker[AsyncSession], services: Callable[..., object], clock: ManualClock
) -> None:
    # what the pass sees when a message commits while it runs on PostgreSQL: the stage row is
    # new (active since the message) but the member row is the version from before it
    now = clock.now() + timedelta(hours=1)
    await _member(sessions, 1, first_seen=now - 60 * DAY, last_seen=now - 10 * DAY)
    async with sessions() as session, session.begin():
        session.add(MemberStage(user_id=1, stage="active", since=now - timedelta(minutes=1)))
    async with services() as s:  # type: ignore[attr-defined]
        result = await s.lifecycle.daily_pass(now)
    assert result is not None and result.moved == 0
    assert await _stages(sessions) == {1: "active"}
