"""The operators' pages over HTTP, on the small world of tests/dashboard_world.py: each shows
the figures its read model gives for the same data (and, where a chat command says the same,
what the command says); the writes change what the commands see, audited as the operator.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SopBot
from bot.db.models import AuditEntry, MemberTag
from bot.db.repositories import SopRepository
from bot.services.dashboard.coupons import CouponsQuery
from bot.services.dashboard.sources import SourcesQuery
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.dashboard_world import build_world, world_config
from tests.e2e.dashboard_support import dashboard_app, fetch, init_data


@pytest.fixture
async def dash(
    sandbox: TelegramSandbox,
    clock: ManualClock,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[SopBot]:
    await build_world(sessions, clock.now())
    async with dashboard_app(sandbox, world_config(), clock, database_url) as app:
        yield app


def _attr(body: str, name: str, value: str, inner: str) -> str:
    """The text of the first element with ``inner`` attribute inside the one with
    ``name="value"``."""
    start = body.index(f'{name}="{value}"')
    found = re.compile(rf"{inner}[^>]*>([^<]*)<").search(body, start)
    assert found, (name, value, inner)
    return found.group(1).strip()


async def _get(app: SopBot, clock: ManualClock, path: str, language: str = "en") -> str:
    status, body, _ = await fetch(app, path, data=init_data(clock.now(), language=language))
    assert status == 200, body[:300]
    return body


async def _post(app: SopBot, clock: ManualClock, path: str, form: dict[str, str]) -> str:
    data = init_data(clock.now())
    page = path.split("/")[0]
    body = await _get(app, clock, page + ("?id=" + form["id"] if "id" in form else ""))
    csrf = re.search(r'data-csrf="([^"]+)"', body)
    assert csrf
    status, _, headers = await fetch(
        app, path, data=data, method="POST", form={**form, "_csrf": csrf.group(1)}
    )
    assert status == 303, status
    return str(headers["Location"])


async def test_the_sources_page_shows_the_funnel(
    dash: SopBot, clock: ManualClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = await _get(dash, clock, "sources?days=90")
    async with sessions() as session:
        report = await SourcesQuery(session, world_config()).funnel(90, clock.now())
    for funnel in report.sources:
        section = body[body.index(f'data-source="{funnel.source}"') :]
        for step, n in funnel.steps():
            assert _attr(section, "data-step", step, "data-value") == str(n)
        for r in funnel.retention:
            assert _attr(section, "data-retained", str(r.days), "data-value") == str(r.active)
    zh = await _get(dash, clock, "sources?days=90", language="zh")
    assert "领取礼包" in zh and "成员来源" in zh


async def test_members_search_the_card_and_a_tag_edit(
    dash: SopBot, clock: ManualClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = await _get(dash, clock, "members?source=src_ad&stage=silent")
    shown = [int(n) for n in re.findall(r'data-member="(\d+)"', body)]
    assert shown == [3, 2] and 'data-total="2"' in body
    card = await _get(dash, clock, "member?id=1")
    assert "NEWCO…" in card and "o-1" in card and 'data-tag="vip"' in card
    back = await _post(dash, clock, "member/tag_add", {"id": "2", "tag": "wholesale"})
    assert back.endswith("member?id=2&notice=member_tag_done")
    assert "Tag changed." in await _get(dash, clock, back.split("/")[-1])
    await _post(dash, clock, "member/tag_add", {"id": "2", "tag": "nonsense"})
    async with sessions() as session:
        tags = (await session.execute(select(MemberTag.tag).where(MemberTag.user_id == 2))).all()
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.command == "dashboard")))
            .scalars()
            .all()
        )
    assert [t for (t,) in tags] == ["wholesale"]
    assert [(a.args, a.result, a.user_id) for a in audit] == [
        ("member.tag_add add 2 wholesale", "ok", 1001),
        ("member.tag_add add 2 nonsense", "usage", 1001),
    ]
    missing = await _get(dash, clock, "member?id=999")
    assert "No member with the id 999." in missing


async def test_the_calendar_pauses_and_takes_briefing_items(
    dash: SopBot, clock: ManualClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = await _get(dash, clock, "calendar")
    assert body.count('data-schedule="evening_qa"') == 7 + 1  # a week of fires + its row
    day = clock.now().astimezone(world_config().tz).date().isoformat()
    tomorrow = re.findall(r'data-day="([\d-]+)"', body)[1]
    await _post(dash, clock, "calendar/pause", {"schedule": "weekly_tip"})
    await _post(dash, clock, "calendar/brief", {"day": tomorrow, "text": "  news   one "})
    bad = await _post(dash, clock, "calendar/brief", {"day": "2020-01-01", "text": "x"})
    assert bad.endswith("notice=calendar_brief_usage")
    async with sessions() as session:
        assert await SopRepository(session).paused() == {"weekly_tip"}
        assert await SopRepository(session).brief_items(date.fromisoformat(tomorrow)) == [
            "news one"
        ]
    after = await _get(dash, clock, "calendar")
    section = after[after.index(f'data-day="{tomorrow}"') :]
    assert _attr(section, "data-schedule", "morning_briefing", "data-items") == "1 items"
    assert 'data-schedule="weekly_tip" data-ready="yes" data-paused="yes"' in after
    assert day in after


async def test_coupons_broadcasts_audit_and_desk(
    dash: SopBot, clock: ManualClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    coupons = await _get(dash, clock, "coupons?days=90")
    async with sessions() as session:
        report = await CouponsQuery(session, world_config()).conversion(90, clock.now())
    for row in report.campaigns[0].sources:
        assert _attr(coupons, "data-source", row.source, "data-issued") == str(row.issued)
        assert _attr(coupons, "data-source", row.source, "data-redeemed") == str(row.redeemed)
    broadcasts = await _get(dash, clock, "broadcasts")
    bid = re.findall(r'data-broadcast="(\d+)"', broadcasts)[0]
    assert _attr(broadcasts, "data-broadcast", bid, "data-sent") == "2"
    detail = await _get(dash, clock, f"broadcasts?id={bid}")
    assert _attr(detail, "data-variant", "a", "data-recipients") == "2"
    audit = await _get(dash, clock, "audit")
    assert re.findall(r'data-command="(\w+)"', audit) == ["audit", "sop", "tag", "kpi"]
    desk = await _get(dash, clock, "desk")
    assert 'data-tickets="2" data-overdue="1"' in desk
    assert re.findall(r'data-ticket="\d+" data-status="(\w+)"', desk) == ["open", "answered"]
    assert _attr(desk, "data-kind", "mute", "data-value") == "1"
