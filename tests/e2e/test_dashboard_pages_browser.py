"""The operators' pages in headless Chromium, opened as a Mini App (the init data in the
fragment) at a phone's and a desktop's size: each shows the figures its chat command (or its
read model, where no command says them) gives for the same data; a tag put on in the card;
screenshots into artifacts/screenshots/. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SopBot
from bot.db.models import MemberTag
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR
from tests.dashboard_world import WORLD, build_world, world_config
from tests.e2e.browser_support import (
    DESKTOP,
    PHONE,
    browser,  # noqa: F401  (the fixture)
    mini_app_url,
    needs_chromium,
    open_page,
    screenshot,
)
from tests.e2e.dashboard_support import dashboard_app, init_data
from tests.e2e.helpers import run_clock, settle, until

pytestmark = needs_chromium
SIZES = (("phone", PHONE), ("desktop", DESKTOP))


@pytest.fixture
async def dash(
    sandbox: TelegramSandbox,
    clock: ManualClock,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[SopBot]:
    await build_world(sessions, clock.now())
    async with dashboard_app(sandbox, world_config(), clock, database_url) as app:
        await settle(app, sandbox)
        yield app


async def _ask(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, command: str) -> str:
    """The bot's answer to an operator's team command in private. A chat gets a message a
    second, so virtual seconds pass until it came, and a few more for the rest of a
    many-part answer (the next command's reply would wait behind it on a clock that stands)."""
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, command)
    await until(app, sandbox, lambda: len(sandbox.sent_messages(OPERATOR)) > before)
    await run_clock(app, sandbox, clock, 3)
    return str(sandbox.sent_messages(OPERATOR)[before].text)


async def _open(
    chromium: Any, app: SopBot, clock: ManualClock, path: str, size: dict[str, int], ready: str
) -> tuple[Any, list[str]]:
    page, errors = await open_page(chromium, mini_app_url(app, path, init_data(clock.now())), size)
    await page.wait_for_selector(ready)
    return page, errors


async def _text(page: Any, selector: str) -> str:
    return str(await page.locator(selector).first.inner_text()).strip()


def _db(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


async def test_sources_members_and_the_card(
    dash: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    browser: Any,  # noqa: F811
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ad = [p for p in WORLD if p.source == "src_ad"]
    for name, size in SIZES:
        page, errors = await _open(browser, dash, clock, "sources?days=90", size, "[data-step]")
        section = '[data-source="src_ad"]'
        assert await _text(page, f'{section} [data-step="joined"] [data-value]') == str(len(ad))
        assert await _text(page, f'{section} [data-step="redeemed"] [data-value]') == str(
            sum(p.redeemed for p in ad)
        )
        await screenshot(page, f"sources-{name}-{_db(database_url)}")
        page2, errors2 = await _open(
            browser, dash, clock, "members?stage=new", size, "[data-total]"
        )
        ids = [
            await r.get_attribute("data-member")
            for r in await page2.locator("tr[data-member]").all()
        ]
        assert sorted(int(i or 0) for i in ids) == sorted(
            p.user_id for p in WORLD if p.stage == "new"
        )
        await screenshot(page2, f"members-{name}-{_db(database_url)}")
        assert errors == [] and errors2 == []
        await page.context.close()
        await page2.context.close()
    member = await _ask(dash, sandbox, clock, "/member 1")
    assert "src_ad" in member and "vip" in member
    page, errors = await _open(browser, dash, clock, "member?id=1", PHONE, "[data-field]")
    assert await _text(page, '[data-field="source"]') == "src_ad"
    assert await page.locator('form.tag[data-tag="vip"]').count() == 1
    await page.select_option('form.inline select[name="tag"]', "wholesale")
    await page.click('form.inline button[type="submit"]')
    await page.wait_for_selector("[data-notice]")
    assert await page.locator('form.tag[data-tag="wholesale"]').count() == 1
    await screenshot(page, f"member-phone-{_db(database_url)}")
    async with sessions() as session:
        tags = (await session.execute(select(MemberTag.tag).where(MemberTag.user_id == 1))).all()
    assert sorted(t for (t,) in tags) == ["vip", "wholesale"]
    assert errors == []


async def test_calendar_coupons_broadcasts_audit_and_desk(
    dash: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    browser: Any,  # noqa: F811
    database_url: str,
) -> None:
    stats = await _ask(dash, sandbox, clock, "/coupon stats")
    issued, redeemed = re.search(r"\(newcomer\): (\d+) → (\d+)", stats).groups()  # type: ignore[union-attr]
    tickets = await _ask(dash, sandbox, clock, "/tickets")
    total, overdue = re.search(r"(\d+) not closed, (\d+) overdue", tickets).groups()  # type: ignore[union-attr]
    listing = await _ask(dash, sandbox, clock, "/sop")
    db = _db(database_url)
    for name, size in SIZES:
        page, errors = await _open(browser, dash, clock, "coupons?days=90", size, "[data-campaign]")
        row = '[data-campaign="newcomer"] tr.total'
        assert (
            await _text(page, f"{row} [data-issued]"),
            await _text(page, f"{row} [data-redeemed]"),
        ) == (
            issued,
            redeemed,
        )
        await screenshot(page, f"coupons-{name}-{db}")
        await page.goto(mini_app_url(dash, "calendar", init_data(clock.now())))
        await page.wait_for_selector("[data-day] [data-schedule]")
        for schedule in ("morning_briefing", "evening_qa", "weekly_tip"):
            assert (
                schedule in listing
                and await page.locator(f'.entry[data-schedule="{schedule}"]').count() > 0
            )
        await screenshot(page, f"calendar-{name}-{db}")
        await page.goto(mini_app_url(dash, "broadcasts", init_data(clock.now())))
        await page.wait_for_selector("tr[data-broadcast]")
        assert await _text(page, "tr[data-broadcast] [data-sent]") == "2"
        await screenshot(page, f"broadcasts-{name}-{db}")
        await page.goto(mini_app_url(dash, "audit", init_data(clock.now())))
        await page.wait_for_selector("tr[data-command]")
        commands = [
            await r.get_attribute("data-command")
            for r in await page.locator("tr[data-command]").all()
        ]
        assert commands[:3] == ["sop", "tickets", "coupon"]  # the commands this test asked
        await screenshot(page, f"audit-{name}-{db}")
        await page.goto(mini_app_url(dash, "desk", init_data(clock.now())))
        await page.wait_for_selector("[data-tickets]")
        shown = page.locator("[data-tickets]")
        assert (
            await shown.get_attribute("data-tickets"),
            await shown.get_attribute("data-overdue"),
        ) == (
            total,
            overdue,
        )
        await screenshot(page, f"desk-{name}-{db}")
        assert errors == []
        await page.context.close()


async def test_the_calendar_pauses_from_the_browser_in_chinese(
    dash: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    browser: Any,  # noqa: F811
) -> None:
    url = mini_app_url(dash, "calendar", init_data(clock.now(), language="zh"))
    page, errors = await open_page(browser, url, PHONE, locale="zh-CN")
    await page.wait_for_selector('[data-list="schedules"]')
    assert "SOP 日程" in await _text(page, "h1")
    await page.click(
        '[data-list="schedules"] tr[data-schedule="weekly_tip"] button[data-action="pause"]'
    )
    await page.wait_for_selector("[data-notice]")
    assert "已暂停" in await _text(page, "[data-notice]")
    assert "weekly_tip" in await _ask(dash, sandbox, clock, "/sop")
    await screenshot(page, "calendar-phone-zh")
    assert errors == []
