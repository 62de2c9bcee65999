"""The dashboard's SOP calendar: the next seven days of fires from the engine's cron, each with
its content status, after the /sop, /brief and /qa services changed them (both databases)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, parse_config
from bot.rendering import Renderer
from bot.runtime import engine_for
from bot.services.dashboard.calendar import CalendarQuery
from bot.services.dto import Person
from bot.services.messenger import Messenger
from bot.services.sop.admin import SopAdminService
from sop.clock import ManualClock
from sop.schedules import calendar
from tests.conftest import CONFIG_YAML, OPERATOR
from tests.dashboard_world import SCHEDULES_YAML

OLGA = Person(OPERATOR, "Olga", "olga")


def _config() -> CommunityConfig:
    yaml = CONFIG_YAML + SCHEDULES_YAML + "sop:\n  content_dir: content\n"
    return parse_config(yaml, "tests/db/test_dashboard_calendar.py")


async def test_the_week_lists_every_fire_with_its_content_and_pause(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, tmp_path: Path
) -> None:
    config = _config()
    engine = engine_for(config)
    now = clock.now()
    today = now.astimezone(config.tz).date()
    (tmp_path / "content").mkdir()
    in_file = today + timedelta(days=2)
    (tmp_path / "content" / f"{in_file.isoformat()}.md").write_text("# news\n- one\n- two\n")
    async with sessions() as session, session.begin():
        admin = SopAdminService(session, config, engine, Messenger(session, Renderer(), config))
        added_for = await admin.add_brief(None, "tomorrow's item", OLGA, now)
        topic = await admin.set_qa_topic("pricing", now)
        assert await admin.pause("weekly_tip", OLGA, now)
    assert topic is not None
    async with sessions() as session:
        week = await CalendarQuery(session, config, engine, tmp_path).week(now)
    assert [d.day for d in week.days] == [today + timedelta(days=n) for n in range(7)]
    end = now.astimezone(config.tz).replace(hour=0, minute=0) + timedelta(days=7)
    expected = calendar(engine.schedule_specs(), now, end)
    listed = [(e.at, e.schedule_id) for d in week.days for e in d.entries]
    assert listed == [(at.astimezone(config.tz), sid) for at, sid in expected]
    entries = {(e.schedule_id, e.at.date()): e for d in week.days for e in d.entries}
    briefings = {
        day: e.briefing_items for (sid, day), e in entries.items() if sid == "morning_briefing"
    }
    assert briefings[added_for] == 1 and briefings[in_file] == 2
    assert all(n == 0 for day, n in briefings.items() if day not in (added_for, in_file))
    qa = {day: e for (sid, day), e in entries.items() if sid == "evening_qa"}
    assert qa[topic[1]].qa_topic == "pricing" and qa[topic[1]].ready
    assert all(e.qa_topic is None and not e.ready for day, e in qa.items() if day != topic[1])
    tips = [e for (sid, _), e in entries.items() if sid == "weekly_tip"]
    assert tips and all(e.paused and e.ready and e.briefing_items is None for e in tips)
    assert {s.schedule_id: s.paused for s in week.schedules} == {
        "morning_briefing": False,
        "evening_qa": False,
        "weekly_tip": True,
    }
    async with sessions() as session, session.begin():
        admin = SopAdminService(session, config, engine, Messenger(session, Renderer(), config))
        assert await admin.resume("weekly_tip", now)
    async with sessions() as session:
        week = await CalendarQuery(session, config, engine, tmp_path).week(now)
    assert not any(e.paused for d in week.days for e in d.entries)


async def test_a_day_without_schedules_is_listed_empty(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    async with sessions() as session:
        week = await CalendarQuery(session, config, engine_for(config), Path(".")).week(
            clock.now(), days=3
        )
    assert [(d.day, d.entries) for d in week.days] == [
        (date(2026, 11, 20) + timedelta(days=n), []) for n in range(3)
    ]
    assert week.schedules == []
