"""Referrals end to end: /invite links made once, newcomers through them credited, both rewarded
after the stay; self-referrals, people the bot knew, re-joins and early leavers earn nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import Referral
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML
from tests.e2e.helpers import settle

LINK = re.compile(r"https://t\.me/\+[\w-]+")
CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")

REFERRAL_YAML = (
    CONFIG_YAML
    + """
  friend:
    title: Friends bonus
    discount: "50 off"
    valid_days: 30
    per_member: 3
referral:
  coupon: friend
  stay_days: 7
"""
)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(REFERRAL_YAML, "test_referrals")


async def say(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, text: str
) -> str:
    await settle(app, sandbox)
    clock.advance(seconds=2)
    before = len(sandbox.sent_messages(user))
    sandbox.user_sends(user, text)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) > before)
    await settle(app, sandbox)
    return sandbox.sent_messages(user)[-1].text


async def member(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, uid: int, link: str | None = None
) -> None:
    """``uid`` joins the community (through ``link``), then opens a private chat."""
    sandbox.add_user(uid, f"P{uid}")
    sandbox.user_joins(COMMUNITY, uid, invite_link=link)
    await settle(app, sandbox)
    await say(app, sandbox, clock, uid, "/start")


async def invite_link(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, uid: int) -> str:
    text = await say(app, sandbox, clock, uid, "/invite")
    match = LINK.search(text)
    assert match, text
    return match.group(0)


async def statuses(app: SopBot) -> dict[int, str]:
    async with app.db.sessions() as session:
        rows = (await session.execute(select(Referral))).scalars().all()
    return {row.invitee_id: row.status for row in rows}


def rewards(sandbox: TelegramSandbox, uid: int) -> list[str]:
    return [
        m.text
        for m in sandbox.sent_messages(uid)
        if "Friends bonus" in m.text and CODE.search(m.text)
    ]


async def pass_days(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, days: float) -> None:
    for _ in range(int(days * 4)):  # quarter days: every loop gets its turn
        clock.advance(hours=6)
        await settle(app, sandbox)


async def test_a_friend_who_stays_earns_both_a_coupon(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await member(app, sandbox, clock, 7501)
    link = await invite_link(app, sandbox, clock, 7501)
    assert await invite_link(app, sandbox, clock, 7501) == link  # made once, shown again
    made = [entry for entry in sandbox.invite_links if entry["invite_link"] == link]
    assert len(made) == 1 and made[0]["name"].startswith("ref-7501-")
    assert len(sandbox.invite_links) == 1

    await member(app, sandbox, clock, 7502, link)
    clock.advance(minutes=11)
    await settle(app, sandbox)
    assert await statuses(app) == {7502: "pending"}
    assert "1 waiting" in await say(app, sandbox, clock, 7501, "/invite")

    await pass_days(app, sandbox, clock, 6.5)
    assert rewards(sandbox, 7501) == [] and rewards(sandbox, 7502) == []
    await pass_days(app, sandbox, clock, 1)
    assert await statuses(app) == {7502: "rewarded"}
    [to_referrer] = rewards(sandbox, 7501)
    [to_newcomer] = rewards(sandbox, 7502)
    assert "P7502" in to_referrer and "P7501" in to_newcomer
    codes = {CODE.findall(to_referrer)[0], CODE.findall(to_newcomer)[0]}
    assert len(codes) == 2
    await pass_days(app, sandbox, clock, 2)  # rewarded once
    assert len(rewards(sandbox, 7501)) == 1 and len(rewards(sandbox, 7502)) == 1
    assert "1 rewarded" in await say(app, sandbox, clock, 7501, "/invite")


async def test_hostile_referrals_earn_nothing(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await member(app, sandbox, clock, 7601)
    link = await invite_link(app, sandbox, clock, 7601)
    # someone the bot knew: opened a private chat a day before joining through the link
    sandbox.add_user(7602, "Known")
    await say(app, sandbox, clock, 7602, "/start")
    clock.advance(days=1)
    # someone who was a member, left, and comes back through the link
    await member(app, sandbox, clock, 7603)
    sandbox.user_leaves(COMMUNITY, 7603)
    await settle(app, sandbox)
    clock.advance(hours=2)
    # the referrer leaves and re-joins through their own link
    sandbox.user_leaves(COMMUNITY, 7601)
    await settle(app, sandbox)
    clock.advance(minutes=5)

    sandbox.user_joins(COMMUNITY, 7602, invite_link=link)
    sandbox.user_joins(COMMUNITY, 7603, invite_link=link)
    sandbox.user_joins(COMMUNITY, 7601, invite_link=link)
    await member(app, sandbox, clock, 7604, link)  # a newcomer who leaves early
    await pass_days(app, sandbox, clock, 2)
    sandbox.user_leaves(COMMUNITY, 7604)
    await member(app, sandbox, clock, 7605, link)  # a real newcomer
    await pass_days(app, sandbox, clock, 1)
    sandbox.user_joins(COMMUNITY, 7604, invite_link=link)  # ... back, through the link
    await pass_days(app, sandbox, clock, 8)

    assert await statuses(app) == {
        7601: "self",
        7602: "known",
        7603: "known",
        7604: "left",
        7605: "rewarded",
    }
    assert len(rewards(sandbox, 7601)) == 1  # for 7605 only
    for uid in (7602, 7603, 7604):
        assert rewards(sandbox, uid) == []
    assert len(rewards(sandbox, 7605)) == 1


async def test_only_members_get_a_link(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(7701, "Outsider")
    assert "join it first" in await say(app, sandbox, clock, 7701, "/invite")
    assert "join it first" in await say(app, sandbox, clock, 7701, "/invite")
    assert sandbox.invite_links == []
    asked = [
        c
        for c in sandbox.calls
        if c.method == "getChatMember"
        and str(c.params.get("user_id")) == "7701"
        and str(c.params.get("chat_id")) == str(COMMUNITY)
    ]
    assert len(asked) == 1  # Telegram's "no" is remembered a while
    # in the group before the bot came: Telegram knows, the ledger does not
    sandbox.add_user(7702, "Old-timer")
    sandbox.set_admin(COMMUNITY, 7702, status="member")
    assert LINK.search(await say(app, sandbox, clock, 7702, "/invite"))
    # asked in the group: no answer there, no link
    sandbox.user_sends(7702, "/invite", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert sandbox.sent_messages(COMMUNITY) == [] or not any(
        LINK.search(m.text) for m in sandbox.sent_messages(COMMUNITY)
    )
    assert len(sandbox.invite_links) == 1


async def test_a_link_telegram_refuses_gets_a_plain_answer(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await member(app, sandbox, clock, 7801)
    sandbox.fail_next(
        "createChatInviteLink", 400, "Bad Request: not enough rights to manage chat invite links"
    )
    assert "cannot make an invite link" in await say(app, sandbox, clock, 7801, "/invite")
    assert LINK.search(await say(app, sandbox, clock, 7801, "/invite"))  # later it works


async def test_without_a_referral_section_there_are_no_links(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    from tests.conftest import settings_for

    app = SopBot(
        settings_for(sandbox.url, database_url),
        parse_config(CONFIG_YAML, "t"),
        clock=clock,
        polling_timeout=1,
    )
    await app.start()
    try:
        await member(app, sandbox, clock, 7901)
        assert "not available" in await say(app, sandbox, clock, 7901, "/invite")
        assert sandbox.invite_links == []
    finally:
        await app.stop()
