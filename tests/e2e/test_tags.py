"""Tags, lifecycle, segments and win-back end to end: the real bot against the sandbox on a
virtual clock — /tag and /segment for operators (and refused to everyone else), lifecycle
moves by the daily pass, a win-back DM within its cap and outside quiet hours, reactivation,
and a schedule that DMs a segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import DailyRollup, MemberTag
from bot.db.models.tags import MemberStage, TagEvent
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR
from tests.e2e.helpers import settle

TAGS_YAML = (
    CONFIG_YAML
    + """
  comeback:
    title: 回归礼
    discount: "30%"
    valid_days: 14
    per_member: 5
tags:
  lifecycle: {new: 1d}
  daily_at: "07:00"
  interests:
    coffee: [咖啡, latte]
  manual: [vip]
segments:
  coffee_fans:
    tags: [interest:coffee]
schedules:
  - id: coffee_tip
    cron: "0 12 * * *"
    template: guide
    target: coffee_fans
winback:
  coupon: comeback
"""
)
SHANGHAI_OFFSET = timedelta(hours=8)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(TAGS_YAML, "tests/e2e/test_tags.py")


async def _ask(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, text: str
) -> str:
    """``text`` to the bot in private, and its answer: once the bot is done with the last one,
    two seconds later on the virtual clock (one message a second to a private chat)."""
    await settle(app, sandbox)
    clock.advance(seconds=2)
    before = len(sandbox.sent_messages(user))
    sandbox.user_sends(user, text)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) == before + 1)
    return sandbox.sent_messages(user)[-1].text


async def _member(
    app: SopBot,
    sandbox: TelegramSandbox,
    user: int,
    name: str,
    *,
    started: bool = True,
    says: str | None = None,
) -> None:
    sandbox.add_user(user, name, username=name.lower(), language_code="en")
    if started:
        sandbox.user_sends(user, "/start")
    sandbox.user_joins(COMMUNITY, user)
    await settle(app, sandbox)
    if says is not None:
        sandbox.user_sends(user, says, chat_id=COMMUNITY)
        await settle(app, sandbox)


async def _hours(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, hours: int, step: int = 1
) -> None:
    for _ in range(hours // step):
        clock.advance(hours=step)
        await settle(app, sandbox)


async def _days(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, days: int) -> None:
    await _hours(app, sandbox, clock, days * 24, step=12)


def _winbacks(sandbox: TelegramSandbox, user: int) -> list[str]:
    return [m.text for m in sandbox.sent_messages(user) if "missed you" in m.text]


async def test_operator_tags_a_member_and_sizes_segments(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _member(app, sandbox, 7201, "Quinn", says="I'd love a latte")
    await _member(app, sandbox, 7202, "Rita", says="hello")

    assert (
        await _ask(app, sandbox, clock, OPERATOR, "/tag @Quinn add vip")
        == "Tagged @quinn: <code>vip</code>"
    )
    assert "already has" in await _ask(app, sandbox, clock, OPERATOR, "/tag 7201 add vip")
    assert (
        await _ask(app, sandbox, clock, OPERATOR, "/tag @rita remove vip")
        == "@rita does not have <code>vip</code>; nothing changed"
    )
    assert "No member <code>@nobody</code>" in await _ask(
        app, sandbox, clock, OPERATOR, "/tag @nobody add vip"
    )
    unknown = await _ask(app, sandbox, clock, OPERATOR, "/tag @quinn add gold")
    assert "Unknown tag <code>gold</code>" in unknown and "interest:coffee" in unknown
    assert (await _ask(app, sandbox, clock, OPERATOR, "/tag @quinn vip")).startswith("Usage:")
    assert (
        await _ask(app, sandbox, clock, OPERATOR, "/segment coffee_fans")
        == "Segment <b>coffee_fans</b>: 1 members, 1 reachable by DM"
    )
    listing = await _ask(app, sandbox, clock, OPERATOR, "/segment")
    assert "• all: 2" in listing and "• coffee_fans: 1" in listing and "• active: 2" in listing
    assert "No segment <code>nope</code>" in await _ask(
        app, sandbox, clock, OPERATOR, "/segment nope"
    )
    assert (await _ask(app, sandbox, clock, OPERATOR, "/segment a b")).startswith("Usage:")

    refusal = "Sorry, this command is for the operations team only."
    assert await _ask(app, sandbox, clock, 7202, "/tag @quinn remove vip") == refusal
    assert await _ask(app, sandbox, clock, 7202, "/segment coffee_fans") == refusal
    async with app.sessions() as session:
        tags = (
            (
                await session.execute(
                    select(MemberTag.tag).where(MemberTag.user_id == 7201).order_by(MemberTag.tag)
                )
            )
            .scalars()
            .all()
        )
        manual = (
            await session.execute(select(TagEvent.by, TagEvent.action).where(TagEvent.tag == "vip"))
        ).all()
    assert list(tags) == ["interest:coffee", "vip"]
    assert [tuple(row) for row in manual] == [(f"op:{OPERATOR}", "added")]


async def test_silent_member_is_won_back_within_caps_and_reactivated(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _member(app, sandbox, 7301, "Sam", says="hi all")
    await _member(app, sandbox, 7302, "Una", started=False, says="hi")  # may not be DMed
    await _hours(app, sandbox, clock, 22, step=11)  # 07:00 the next day: the daily pass
    await _days(app, sandbox, clock, 6)  # day 7, 07:00: 6 days 22 hours of silence
    assert _winbacks(sandbox, 7301) == []
    await _hours(app, sandbox, clock, 24, step=12)  # day 8, 07:00: silent; the DM waits to 08:00
    async with app.sessions() as session:
        stages = dict((await session.execute(select(MemberStage.user_id, MemberStage.stage))).all())
    assert stages[7301] == "silent" and stages[7302] == "silent"
    assert _winbacks(sandbox, 7301) == []  # 07:00 is inside quiet hours (22-08)
    await _hours(app, sandbox, clock, 1)
    [dm] = [m for m in sandbox.sent_messages(7301) if "missed you" in m.text]
    assert "Code: <code>" in dm.text and "30%" in dm.text
    sent_local = datetime.fromtimestamp(dm.at, UTC) + SHANGHAI_OFFSET
    assert sent_local.hour == 8  # when the quiet hours ended
    assert _winbacks(sandbox, 7302) == []

    # Sam spoke lately and never bought: the value-tier pass makes him tier:potential, whose
    # cap is a week
    async with app.sessions() as session:
        tier = (
            (
                await session.execute(
                    select(MemberTag.tag).where(
                        MemberTag.user_id == 7301, MemberTag.tag.startswith("tier:")
                    )
                )
            )
            .scalars()
            .all()
        )
    assert list(tier) == ["tier:potential"]
    await _days(app, sandbox, clock, 6)  # day 14, 08:00
    assert len(_winbacks(sandbox, 7301)) == 1
    await _days(app, sandbox, clock, 1)  # day 15, 08:00: a week since the first
    assert len(_winbacks(sandbox, 7301)) == 2

    sandbox.user_sends(7301, "I'm back", chat_id=COMMUNITY)
    await settle(app, sandbox)
    sandbox.user_sends(7301, "still here", chat_id=COMMUNITY)
    await settle(app, sandbox)
    day = (clock.now() + SHANGHAI_OFFSET).date()
    async with app.sessions() as session:
        stage = await session.get(MemberStage, 7301)
        rollup = await session.get(DailyRollup, (COMMUNITY, day))
    assert stage is not None and stage.stage == "active"
    assert rollup is not None and rollup.reactivated == 1 and rollup.silent_members == 2


async def test_a_schedule_targeting_a_segment_dms_its_reachable_members_once_per_fire(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _member(app, sandbox, 7401, "Ada", says="咖啡时间到")
    await _member(app, sandbox, 7402, "Ben", says="just tea")
    await _member(app, sandbox, 7403, "Cy", started=False, says="latte!")

    def tips(user: int) -> int:
        return sum("the guide you asked for" in m.text for m in sandbox.sent_messages(user))

    for _ in range(4):  # 09:00 → 13:00
        clock.advance(hours=1)
        await settle(app, sandbox)
    assert (tips(7401), tips(7402), tips(7403)) == (1, 0, 0)
    await _days(app, sandbox, clock, 1)
    assert (tips(7401), tips(7402), tips(7403)) == (2, 0, 0)  # once per fire
    assert not any(
        "指南" in m.text or "guide you" in m.text for m in sandbox.sent_messages(COMMUNITY)
    )  # nothing to the group
