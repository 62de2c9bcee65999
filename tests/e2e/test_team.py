"""/kpi end to end: operators get today's figures, everyone else a refusal without any."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.app import SopBot
from bot.config import CommunityConfig
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT
from tests.e2e.helpers import settle


def _figure(text: str, label: str) -> int:
    match = re.search(rf"{label} ([+-]?\d+)", text)
    assert match, f"no {label!r} in {text!r}"
    return int(match.group(1))


async def _kpi(sandbox: TelegramSandbox, user: int, chat: int | None = None) -> str:
    before = len(sandbox.sent_messages(chat or user))
    sandbox.user_sends(user, "/kpi", chat_id=chat)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(chat or user)) == before + 1)
    return sandbox.sent_messages(chat or user)[-1].text


async def test_operator_gets_todays_figures(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid in range(9001, 9007):
        sandbox.add_user(uid, f"K{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    sandbox.user_leaves(COMMUNITY, 9006)
    for uid, count in ((9001, 3), (9002, 1)):
        for _ in range(count):
            sandbox.user_sends(uid, "hello", chat_id=COMMUNITY)
    sandbox.user_sends_sticker(9003, chat_id=COMMUNITY)
    await settle(app, sandbox)
    clock.advance(minutes=3)  # the greeting goes out
    await settle(app, sandbox)

    text = await _kpi(sandbox, OPERATOR)
    assert "Demo community" in text
    assert _figure(text, "Members") == 5
    assert _figure(text, "Joins") == 6
    assert _figure(text, "Leaves") == 1
    assert _figure(text, "Net growth") == 5
    assert _figure(text, "Active members") == 3
    assert _figure(text, "Messages") == 5
    assert "Welcome SLA 100% (5/5)" in text  # the one who left before the greeting is not due


async def test_kpi_day_is_the_configured_timezones_day(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    # the clock starts at 09:00 Shanghai; 23:59 there is 14h59m later
    clock.advance(timedelta(hours=14, minutes=59))
    sandbox.add_user(9101, "Late")
    sandbox.user_joins(COMMUNITY, 9101)
    await settle(app, sandbox)
    assert _figure(await _kpi(sandbox, OPERATOR), "Joins") == 1
    clock.advance(minutes=2)  # 00:01 the next day in Shanghai, still 16:01 UTC
    await settle(app, sandbox)
    text = await _kpi(sandbox, OPERATOR)
    assert "2026-11-21" in text
    assert _figure(text, "Joins") == 0
    assert _figure(text, "Members") == 1


async def test_team_chat_members_may_ask_in_the_team_chat(
    app: SopBot, sandbox: TelegramSandbox
) -> None:
    sandbox.add_user(9201, "Teammate", language_code="en")
    text = await _kpi(sandbox, 9201, chat=TEAM_CHAT)
    assert "Members" in text


async def test_team_chat_member_may_ask_in_private(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(9251, "Teammate", language_code="en")
    sandbox.set_admin(TEAM_CHAT, 9251, status="member")
    sandbox.user_sends(9251, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(9251)) == 1)
    await settle(app, sandbox)  # the last send settled before time moves
    clock.advance(seconds=2)  # one message a second to a private chat
    assert "Members" in await _kpi(sandbox, 9251)


async def test_anyone_else_is_refused_without_figures(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(9301, "Stranger", language_code="en")
    sandbox.user_sends(9301, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(9301)) == 1)
    await settle(app, sandbox)  # the last send settled before time moves
    clock.advance(seconds=2)
    text = await _kpi(sandbox, 9301)
    assert "team only" in text
    assert not re.search(r"\d", text)

    sandbox.user_joins(COMMUNITY, 9301)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    in_group = len(sandbox.sent_messages(COMMUNITY))
    # asked in the community: told by DM (they started the bot), the group is spared
    notice = await _kpi_told_in_private(sandbox, 9301)
    assert "team only" in notice and not re.search(r"\d", notice)
    await settle(app, sandbox)
    assert len(sandbox.sent_messages(COMMUNITY)) == in_group


async def _kpi_told_in_private(sandbox: TelegramSandbox, user: int) -> str:
    before = len(sandbox.sent_messages(user))
    sandbox.user_sends(user, "/kpi", chat_id=COMMUNITY)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) == before + 1)
    return sandbox.sent_messages(user)[-1].text


async def test_the_bot_asks_for_the_updates_it_needs(app: SopBot, sandbox: TelegramSandbox) -> None:
    await sandbox.wait_for(lambda: sandbox.allowed_updates is not None)
    assert set(sandbox.allowed_updates or []) >= {
        "message",
        "callback_query",
        "chat_member",
        "my_chat_member",
        "chat_join_request",
    }


async def test_a_bad_argument_gets_a_one_line_usage(app: SopBot, sandbox: TelegramSandbox) -> None:
    text = await _kpi_with(sandbox, "/kpi lots of junk")
    assert text.startswith("Usage:") and "\n" not in text


async def _kpi_with(sandbox: TelegramSandbox, command: str) -> str:
    sandbox.user_sends(OPERATOR, command)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)
    return sandbox.sent_messages(OPERATOR)[0].text


async def test_an_operator_asking_in_the_community_gets_no_figures_there(
    app: SopBot, sandbox: TelegramSandbox
) -> None:
    text = await _kpi(sandbox, OPERATOR, chat=COMMUNITY)
    assert "private chat" in text and not re.search(r"\d", text)


async def test_members_from_before_the_bot_are_counted_when_they_leave_and_by_telegram(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    from tests.conftest import settings_for

    for uid in range(9601, 9611):  # ten people were there before the bot
        sandbox.add_user(uid, f"Old{uid}")
        sandbox.set_admin(COMMUNITY, uid, status="member")
    app = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        for uid in range(9601, 9604):
            sandbox.user_leaves(COMMUNITY, uid)
        await settle(app, sandbox)
        clock.advance(minutes=15)  # Telegram's count is asked every 15 minutes
        await settle(app, sandbox)
        text = await _kpi(sandbox, OPERATOR)
        assert _figure(text, "Leaves") == 3
        assert "(Telegram 8)" in text  # seven people and the bot
    finally:
        await app.stop()


async def test_a_teammate_removed_from_the_team_chat_loses_the_figures_at_once(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(9351, "Former", language_code="en")
    sandbox.user_joins(TEAM_CHAT, 9351)
    assert "Members" in await _kpi(sandbox, 9351, chat=TEAM_CHAT)  # remembered as on the team
    await settle(app, sandbox)
    sandbox.user_leaves(TEAM_CHAT, 9351)  # removed from the team
    sandbox.user_sends(9351, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(9351)) == 1)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    text = await _kpi(sandbox, 9351)
    assert "team only" in text and not re.search(r"\d", text)
