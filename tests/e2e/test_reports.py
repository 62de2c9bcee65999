"""Daily and weekly reports and the drop alert, end to end on the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, TEAM_CHAT, settings_for
from tests.e2e.helpers import settle

REPORTS_YAML = (
    CONFIG_YAML.replace("default_locale: zh", "default_locale: en")
    + """
reports:
  daily: {at: "09:00"}
  weekly: {day: Friday, at: "17:00"}
alerts:
  drop: 0.5
  drop_min_base: 3
"""
)


#: how far the clock moves between two looks (the loops wake at each)
STEP = timedelta(hours=4)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(REPORTS_YAML, "tests/e2e/test_reports.py")


def _team(sandbox: TelegramSandbox) -> list[str]:
    return [m.text for m in sandbox.sent_messages(TEAM_CHAT)]


async def _to(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, at: datetime) -> None:
    """Moves the virtual clock to ``at`` a few hours at a time: each loop wakes on its way, and
    every report's time is passed within its grace (12 h), as it would be by a bot that was
    busy or down for a while."""
    while clock.now() < at:
        clock.advance(min(STEP, at - clock.now()))
        await settle(app, sandbox)


def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def _joins(app: SopBot, sandbox: TelegramSandbox, uids: range) -> None:
    for uid in uids:
        sandbox.add_user(uid, f"J{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)


async def test_daily_report_once_at_nine_from_the_first_whole_day(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    # installed 2026-11-20 09:00: no report that morning (nor the next: the 20th is not whole)
    await settle(app, sandbox)
    await _to(app, sandbox, clock, _shanghai(21, 8))
    await _joins(app, sandbox, range(9001, 9004))  # three on the 21st
    await _to(app, sandbox, clock, _shanghai(22, 8, 59))
    assert not any("Daily report" in t for t in _team(sandbox))
    await _to(app, sandbox, clock, _shanghai(22, 9))
    texts = _team(sandbox)
    daily = [t for t in texts if "Daily report 2026-11-21" in t]
    kpi = [t for t in texts if "Yesterday 2026-11-21" in t]
    assert len(daily) == 1 and len(kpi) == 1, texts
    assert "Joins 3" in kpi[0] and "Members 3" in kpi[0]
    assert "Open questions past the SLA</b>: 0" in daily[0]
    assert "Failed deliveries</b>: 0" in daily[0]
    await _to(app, sandbox, clock, _shanghai(22, 20))
    assert sum("Daily report" in t for t in _team(sandbox)) == 1


async def test_a_restart_after_the_report_does_not_send_it_again(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    first = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await first.start()
    try:
        await _to(first, sandbox, clock, _shanghai(22, 9, 30))
    finally:
        await first.stop()
    assert sum("Daily report 2026-11-21" in t for t in _team(sandbox)) == 1
    second = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        await _to(second, sandbox, clock, _shanghai(22, 11))
        await settle(second, sandbox)
    finally:
        await second.stop()
    assert sum("Daily report 2026-11-21" in t for t in _team(sandbox)) == 1


async def test_weekly_review_on_friday_at_five(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await settle(app, sandbox)
    await _to(app, sandbox, clock, _shanghai(23, 10))
    sandbox.add_user(9201, "Deep")
    sandbox.user_sends(9201, "/start spring")  # a deep-link source
    await settle(app, sandbox)
    sandbox.user_joins(COMMUNITY, 9201)
    await _joins(app, sandbox, range(9202, 9204))
    await _to(app, sandbox, clock, _shanghai(27, 16, 59))
    assert not any("Weekly review" in t for t in _team(sandbox))
    await _to(app, sandbox, clock, _shanghai(27, 17))
    weekly = [t for t in _team(sandbox) if "Weekly review 2026-11-21 – 2026-11-27" in t]
    assert len(weekly) == 1
    assert "• spring: 1 → 1 (100%)" in weekly[0]
    assert "• unknown: 2 → 0 (0%)" in weekly[0]
    assert "7 days 2026-11-21 – 2026-11-27" in "\n".join(_team(sandbox))
    await _to(app, sandbox, clock, _shanghai(28, 10))
    assert sum("Weekly review" in t for t in _team(sandbox)) == 1


async def test_a_fall_in_joins_is_one_alert(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await settle(app, sandbox)
    await _to(app, sandbox, clock, _shanghai(21, 10))
    await _joins(app, sandbox, range(9301, 9305))  # 4 on the 21st
    await _to(app, sandbox, clock, _shanghai(22, 10))
    await _joins(app, sandbox, range(9305, 9306))  # 1 on the 22nd: −75%
    await _to(app, sandbox, clock, _shanghai(23, 0, 30))
    alerts = [t for t in _team(sandbox) if "fell" in t]
    assert alerts == [
        "⚠️ <b>Demo community</b>: joins fell 75% on 2026-11-22 (1 against 4 the day before)."
    ]
    await _to(app, sandbox, clock, _shanghai(23, 12))  # checked every 5 minutes
    assert sum("fell" in t for t in _team(sandbox)) == 1
