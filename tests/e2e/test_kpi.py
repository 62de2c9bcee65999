"""/kpi variants end to end, against figures worked out by hand across Shanghai's midnight."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image

from bot.app import SopBot
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT
from tests.e2e.helpers import settle


def _line(text: str, label: str) -> str:
    found = re.search(rf"^.*{label} .*$", text, re.MULTILINE)
    assert found, f"no {label!r} in {text!r}"
    return found.group(0)


def _figure(text: str, label: str) -> str:
    found = re.search(rf"{label} ([+-]?[\d.]+%?)", text)
    assert found, f"no {label!r} in {text!r}"
    return found.group(1)


async def _ask(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    command: str,
    user: int = OPERATOR,
    chat: int | None = None,
) -> str:
    await settle(app, sandbox)
    clock.advance(seconds=2)  # one message a second to a private chat
    where = chat or user
    before = len(sandbox.sent_messages(where))
    sandbox.user_sends(user, command, chat_id=chat)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(where)) == before + 1)
    return sandbox.sent_messages(where)[-1].text


async def _two_days(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> None:
    """2026-11-20 (Shanghai): 5 join (one at 23:50, one by an invite link), 1 leaves, two
    members say 3 things. 2026-11-21 from 00:10: 2 join, the 23:50 one leaves, one member
    speaks once."""
    for uid in range(9001, 9005):
        sandbox.add_user(uid, f"K{uid}")
    sandbox.user_joins(COMMUNITY, 9001)
    sandbox.user_joins(COMMUNITY, 9002)
    sandbox.user_joins(COMMUNITY, 9003, invite_link="spring")
    sandbox.user_joins(COMMUNITY, 9004)
    await settle(app, sandbox)
    sandbox.user_sends(9001, "hello", chat_id=COMMUNITY)
    sandbox.user_sends(9001, "again", chat_id=COMMUNITY)
    sandbox.user_sends(9002, "hi", chat_id=COMMUNITY)
    sandbox.user_leaves(COMMUNITY, 9004)
    await settle(app, sandbox)
    clock.advance(timedelta(hours=14, minutes=50))  # 23:50 in Shanghai
    sandbox.add_user(9005, "Late")
    sandbox.user_joins(COMMUNITY, 9005)
    await settle(app, sandbox)
    clock.advance(minutes=20)  # 00:10 on the 21st (16:10 UTC)
    for uid in (9006, 9007):
        sandbox.add_user(uid, f"K{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    sandbox.user_leaves(COMMUNITY, 9005)
    sandbox.user_sends(9001, "morning", chat_id=COMMUNITY)
    await settle(app, sandbox)


async def test_today_yesterday_a_date_and_the_week_across_midnight(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _two_days(app, sandbox, clock)

    today = await _ask(app, sandbox, clock, "/kpi")
    assert "Today 2026-11-21" in today
    assert _figure(today, "Members") == "5"  # 4 at midnight, +2 −1
    assert _figure(today, "Joins") == "2"
    assert _figure(today, "Leaves") == "1"
    assert _figure(today, "Net growth") == "+1"
    assert _figure(today, "Active members") == "1"
    assert _figure(today, "Messages") == "1"
    # 2 joins against 5 the day before (−60%, flagged) and a 7-day mean of 5/7 (+180%)
    assert _line(today, "Joins").endswith("↓60% / ↑180% ⚠")
    # members: 5 against 4 (+25%) and the mean of six days at 0 and one at 4 (4/7: +775%)
    assert _line(today, "Members").endswith("↑25% / ↑775% ⚠")
    assert "Top sources: unknown 2" in today

    yesterday = await _ask(app, sandbox, clock, "/kpi yesterday")
    assert "Yesterday 2026-11-20" in yesterday
    assert (
        _figure(yesterday, "Members"),
        _figure(yesterday, "Joins"),
        _figure(yesterday, "Leaves"),
        _figure(yesterday, "Net growth"),
        _figure(yesterday, "Active members"),
        _figure(yesterday, "Messages"),
    ) == ("4", "5", "1", "+4", "2", "3")
    assert _line(yesterday, "Joins").endswith("· – / –")
    assert re.search(r"Top sources: (spring|unknown) \d", yesterday)
    assert "spring 1" in yesterday and "unknown 4" in yesterday

    same = await _ask(app, sandbox, clock, "/kpi 2026-11-20")
    assert (
        same.replace("2026-11-20", "").split("\n", 1)[1]
        == yesterday.replace("2026-11-20", "").split("\n", 1)[1]
    )

    week = await _ask(app, sandbox, clock, "/kpi 7d")
    assert "7 days 2026-11-15 – 2026-11-21" in week
    assert (
        _figure(week, "Joins"),
        _figure(week, "Leaves"),
        _figure(week, "Net growth"),
        _figure(week, "Messages"),
        _figure(week, "Members"),
    ) == ("7", "2", "+5", "4", "5")
    assert "Active members 0.4 a day" in week  # (2 + 1) / 7
    assert "vs the 7 days before" in week


async def test_welcome_sla_and_first_response_by_day(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid in (9101, 9102):
        sandbox.add_user(uid, f"W{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    clock.advance(minutes=3)  # the greeting goes out within the SLA
    await settle(app, sandbox)
    sandbox.user_sends(9101, "how do I order?", chat_id=COMMUNITY)
    await settle(app, sandbox)
    clock.advance(minutes=2)
    sandbox.user_sends(OPERATOR, "like this", chat_id=COMMUNITY)
    await settle(app, sandbox)
    text = await _ask(app, sandbox, clock, "/kpi")
    assert "Welcome SLA 100% (2/2)" in text
    assert _figure(text, "Questions") == "1"
    assert "Answered within SLA 100% (1/1)" in text
    assert "First response median 2.0m" in text
    # the day after, the same figures are "yesterday" and today has none
    clock.advance(days=1)
    await settle(app, sandbox)
    tomorrow = await _ask(app, sandbox, clock, "/kpi")
    assert "Welcome SLA — (0/0)" in tomorrow and _figure(tomorrow, "Questions") == "0"
    assert "Welcome SLA 100% (2/2)" in await _ask(app, sandbox, clock, "/kpi yesterday")


async def test_one_community_by_name_or_chat_id(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    by_name = await _ask(app, sandbox, clock, "/kpi demo COMMUNITY")
    by_id = await _ask(app, sandbox, clock, f"/kpi yesterday {COMMUNITY}")
    assert "Demo community" in by_name and "Today" in by_name
    assert "Demo community" in by_id and "Yesterday" in by_id


async def test_bad_arguments_get_one_line_answers(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    unknown = await _ask(app, sandbox, clock, "/kpi tomorrow")
    assert unknown.startswith("Unknown: <code>/kpi tomorrow</code>.") and "\n" not in unknown
    for choice in ("today", "yesterday", "7d", "YYYY-MM-DD", "chart", "Demo community"):
        assert f"<code>/kpi {choice}</code>" in unknown
    for bad in (
        "/kpi 2026-13-45",
        "/kpi 2031-01-01",
        "/kpi 7d nowhere at all",
        "/kpi lots of junk",
    ):
        usage = await _ask(app, sandbox, clock, bad)
        assert usage.startswith("Usage:") and "\n" not in usage, bad
        assert "/kpi [today|yesterday|7d|YYYY-MM-DD|chart] [community]" in usage
    assert (await _ask(app, sandbox, clock, "/kpi yesterday nowhere")).startswith(
        "Unknown: <code>/kpi nowhere</code>"
    )


async def test_others_are_refused_every_variant_without_figures(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(9301, "Stranger", language_code="en")
    sandbox.user_sends(9301, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(9301)) == 1)
    for command in (
        "/kpi yesterday",
        "/kpi 7d",
        "/kpi chart",
        "/kpi 2026-11-20",
        "/kpi Demo community",
    ):
        text = await _ask(app, sandbox, clock, command, user=9301)
        assert "team only" in text and not re.search(r"\d", text), command
    assert sandbox.sent_files(9301) == []


async def test_team_chat_gets_the_chinese_figures_for_a_chinese_teammate(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(9401, "队友", language_code="zh-hans")
    text = await _ask(app, sandbox, clock, "/kpi 7d", user=9401, chat=TEAM_CHAT)
    assert "近 7 天 2026-11-14 – 2026-11-20" in text and "入群 0" in text


async def test_chart_is_a_photo_of_the_last_14_days(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _two_days(app, sandbox, clock)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    sandbox.user_sends(OPERATOR, "/kpi chart")
    await sandbox.wait_for(lambda: len(sandbox.sent_files(OPERATOR)) == 1)
    photo = sandbox.sent_files(OPERATOR)[0]
    assert photo.kind == "photo" and photo.data is not None
    assert photo.data.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(photo.data))
    assert image.size == (900, 560)
    assert "2026-11-08 – 2026-11-21" in photo.caption
    assert "totals: 7 joins, 0 redemptions" in photo.caption
    # the chart of one community, asked in the team chat
    sandbox.add_user(9501, "Mate", language_code="en")
    sandbox.user_sends(9501, f"/kpi chart {COMMUNITY}", chat_id=TEAM_CHAT)
    await sandbox.wait_for(lambda: len(sandbox.sent_files(TEAM_CHAT)) == 1)
    assert "Demo community" in sandbox.sent_files(TEAM_CHAT)[0].caption
