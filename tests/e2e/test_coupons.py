"""/redeem and /coupon end to end: operators give codes (by DM only), redeem them with clear
reasons, see conversion; everyone else is refused without figures."""

from __future__ import annotations

import re

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TEAM_CHAT
from tests.e2e.helpers import settle

CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(
        CONFIG_YAML
        + """
  vip:
    title: VIP thanks
    discount: "30%"
    valid_days: 14
    per_member: 1
    budget: 2
""",
        "test_coupons",
    )


async def say(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    user: int,
    text: str,
    chat: int | None = None,
) -> str:
    """``user`` writes ``text``; the bot's last answer in that chat once all is settled."""
    target = chat or user
    await settle(app, sandbox)
    clock.advance(seconds=2)  # one message a second to a private chat
    before = len(sandbox.sent_messages(target))
    sandbox.user_sends(user, text, chat_id=chat)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(target)) > before)
    await settle(app, sandbox)
    return sandbox.sent_messages(target)[-1].text


async def started(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, uid: int, username: str
) -> None:
    sandbox.add_user(uid, f"M{uid}", username=username, language_code="en")
    await say(app, sandbox, clock, uid, "/start")


async def test_operator_gives_a_code_by_dm_and_redeems_it_once(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await started(app, sandbox, clock, 7001, "mia")
    before = len(sandbox.sent_messages(7001))
    answer = await say(app, sandbox, clock, OPERATOR, "/coupon give @Mia vip")
    assert "VIP thanks" in answer and "M7001" in answer
    assert not CODE.search(answer)  # the operator sees no code
    clock.advance(seconds=2)
    await settle(app, sandbox)
    dms = sandbox.sent_messages(7001)[before:]
    assert len(dms) == 1 and "30%" in dms[0].text
    match = CODE.search(dms[0].text)
    assert match
    code = match.group(0)

    typed = code.lower().replace("-", " ")
    answer = await say(app, sandbox, clock, OPERATOR, f"/redeem {typed}")
    assert (
        answer.startswith("✅")
        and "VIP thanks" in answer
        and "M7001" in answer
        and "@mia" in answer
    )
    again = await say(app, sandbox, clock, OPERATOR, f"/redeem {code}")
    assert "already redeemed" in again and "operator" in again
    unknown = await say(app, sandbox, clock, OPERATOR, "/redeem ABCDE-FGHJK-MNPQR")
    assert "No coupon has the code" in unknown
    malformed = await say(app, sandbox, clock, OPERATOR, "/redeem HELLO")
    assert "not a coupon code" in malformed
    expired_code = await _give_and_read(app, sandbox, clock, 7002, "ned")
    clock.advance(days=15)
    expired = await say(app, sandbox, clock, OPERATOR, f"/redeem {expired_code}")
    assert "expired on" in expired

    stats = await say(app, sandbox, clock, OPERATOR, "/coupon stats vip")
    assert "VIP thanks" in stats and "2 → 1 (50%)" in stats and "operator: 2 → 1" in stats
    everything = await say(app, sandbox, clock, OPERATOR, "/coupon stats")
    assert "newcomer" in everything and "welcome: 2 → 0 (0%)" in everything


async def _give_and_read(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, uid: int, username: str
) -> str:
    await started(app, sandbox, clock, uid, username)
    await say(app, sandbox, clock, OPERATOR, f"/coupon give {uid} vip")
    clock.advance(seconds=2)
    await settle(app, sandbox)
    match = CODE.search(sandbox.sent_messages(uid)[-1].text)
    assert match
    return match.group(0)


async def test_give_explains_why_nothing_was_sent(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await started(app, sandbox, clock, 7101, "ann")
    sandbox.add_user(7102, "Quiet", username="quiet")
    sandbox.user_joins(COMMUNITY, 7102)  # known, but never opened a private chat
    await settle(app, sandbox)

    assert "No coupon campaign named <code>nope</code>" in await say(
        app, sandbox, clock, OPERATOR, "/coupon give @ann nope"
    )
    assert "newcomer, vip" in await say(app, sandbox, clock, OPERATOR, "/coupon give @ann nope")
    assert "I don't know @nobody" in await say(
        app, sandbox, clock, OPERATOR, "/coupon give @nobody vip"
    )
    assert "has not started a private chat" in await say(
        app, sandbox, clock, OPERATOR, "/coupon give @quiet vip"
    )
    assert "Sent" in await say(app, sandbox, clock, OPERATOR, "/coupon give @ann vip")
    assert "per-member cap" in await say(app, sandbox, clock, OPERATOR, "/coupon give 7101 vip")
    for uid, name in ((7103, "bo"), (7104, "cy")):
        await started(app, sandbox, clock, uid, name)
    assert "Sent" in await say(app, sandbox, clock, OPERATOR, "/coupon give @bo vip")
    assert "budget of vip (2 codes) is spent" in await say(
        app, sandbox, clock, OPERATOR, "/coupon give @cy vip"
    )


async def test_a_code_given_from_the_team_chat_never_shows_there(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await started(app, sandbox, clock, 7201, "tea")
    answer = await say(app, sandbox, clock, OPERATOR, "/coupon give @tea vip", chat=TEAM_CHAT)
    assert "Sent" in answer
    clock.advance(seconds=2)
    await settle(app, sandbox)
    assert not any(CODE.search(m.text) for m in sandbox.sent_messages(TEAM_CHAT))
    assert CODE.search(sandbox.sent_messages(7201)[-1].text)


async def test_bad_arguments_get_a_one_line_usage(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for command in (
        "/redeem",
        "/coupon",
        "/coupon give @x",
        "/coupon frobnicate",
        "/coupon stats a b",
    ):
        answer = await say(app, sandbox, clock, OPERATOR, command)
        assert answer.startswith("Usage:") and "\n" not in answer, (command, answer)


async def test_members_are_refused_without_figures(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await started(app, sandbox, clock, 7301, "eve")
    await started(app, sandbox, clock, 7302, "vic")
    code = await _give_and_read(app, sandbox, clock, 7303, "own")
    for command in (f"/redeem {code}", "/coupon stats", "/coupon give @vic vip"):
        answer = await say(app, sandbox, clock, 7301, command)
        assert "team only" in answer and not re.search(r"\d", answer)
    sandbox.user_joins(COMMUNITY, 7301)
    await settle(app, sandbox)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    told, in_group = len(sandbox.sent_messages(7301)), len(sandbox.sent_messages(COMMUNITY))
    sandbox.user_sends(7301, f"/redeem {code}", chat_id=COMMUNITY)
    # asked in the community: told by DM (they started the bot), nothing in the group
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(7301)) > told)
    await settle(app, sandbox)
    notice = sandbox.sent_messages(7301)[-1].text
    assert "team only" in notice and not re.search(r"\d", notice)
    assert len(sandbox.sent_messages(COMMUNITY)) == in_group
    # nothing happened: the code is still good, the other member got nothing
    assert (await say(app, sandbox, clock, OPERATOR, f"/redeem {code}")).startswith("✅")
    assert not any("VIP thanks" in m.text for m in sandbox.sent_messages(7302))


async def test_an_operator_in_the_community_is_pointed_elsewhere(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    code = await _give_and_read(app, sandbox, clock, 7401, "gus")
    answer = await say(app, sandbox, clock, OPERATOR, f"/redeem {code}", chat=COMMUNITY)
    assert "private chat" in answer and code not in answer
    assert (await say(app, sandbox, clock, OPERATOR, f"/redeem {code}")).startswith("✅")


async def test_help_lists_the_coupon_commands(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    answer = await say(app, sandbox, clock, OPERATOR, "/help")
    assert "/redeem CODE" in answer and "/coupon give" in answer and "/coupon stats" in answer
