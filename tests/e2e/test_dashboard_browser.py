"""The overview in headless Chromium, as an operator opens it from Telegram (the Mini App's init
data in the fragment) and on a desktop (a login link): the figures /kpi gives for the same data,
the 30-day charts, nothing for forged init data; screenshots at a phone's and a desktop's
size (artifacts/screenshots/). On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR
from tests.e2e.browser_support import (
    DESKTOP,
    PHONE,
    browser,  # noqa: F401  (the fixture)
    mini_app_url,
    needs_chromium,
    open_page,
    screenshot,
)
from tests.e2e.dashboard_support import LOGIN, dashboard_app, init_data
from tests.e2e.helpers import settle

pytestmark = needs_chromium

#: /kpi's label → the dashboard's figure key
FIGURES = {
    "Members": "members",
    "Joins": "joins",
    "Leaves": "leaves",
    "Net growth": "net",
    "Active members": "active",
    "Messages": "messages",
}


@pytest.fixture
async def dash(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[SopBot]:
    async with dashboard_app(sandbox, config, clock, database_url) as app:
        yield app


async def _a_day(app: SopBot, sandbox: TelegramSandbox) -> None:
    """Four join (one by an invite link), one leaves, two members say three things."""
    for uid in range(9101, 9105):
        sandbox.add_user(uid, f"K{uid}")
        sandbox.user_joins(COMMUNITY, uid, invite_link="spring" if uid == 9103 else None)
    await settle(app, sandbox)
    sandbox.user_sends(9101, "hello", chat_id=COMMUNITY)
    sandbox.user_sends(9101, "again", chat_id=COMMUNITY)
    sandbox.user_sends(9102, "hi", chat_id=COMMUNITY)
    sandbox.user_leaves(COMMUNITY, 9104)
    await settle(app, sandbox)


async def _kpi(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> dict[str, str]:
    clock.advance(seconds=2)
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, "/kpi")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == before + 1)
    text = sandbox.sent_messages(OPERATOR)[-1].text
    found = {}
    for label, key in FIGURES.items():
        match = re.search(rf"{label} ([+-]?[\d.]+%?)", text)
        assert match, (label, text)
        found[key] = match.group(1)
    return found


async def _shown(page: Any) -> dict[str, str]:
    shown = {}
    for key in FIGURES.values():
        cell = page.locator(f'[data-figure="{COMMUNITY}:{key}"] [data-value]')
        shown[key] = (await cell.inner_text()).strip()
    return shown


async def test_the_mini_app_shows_the_kpi_figures_and_the_charts(
    dash: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    browser: Any,  # noqa: F811
    database_url: str,
) -> None:
    await _a_day(dash, sandbox)
    kpi = await _kpi(dash, sandbox, clock)
    assert kpi["joins"] == "4" and kpi["messages"] == "3"  # the data is what the test made
    db = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        url = mini_app_url(dash, "", init_data(clock.now()))
        page, errors = await open_page(browser, url, viewport)
        await page.wait_for_selector(f'[data-figure="{COMMUNITY}:joins"]')
        assert await _shown(page) == kpi
        joins = page.locator('svg[data-chart="joins"] .hit')
        assert await joins.count() == 30
        assert await joins.last.get_attribute("data-value") == "4"
        await joins.last.hover()  # the day's value on hover (and tap)
        assert "4" in await page.locator("#tip").inner_text()
        for chart in ("leaves", "active", "messages", "response_median", "coupons_issued"):
            assert await page.locator(f'svg[data-chart="{chart}"]').count() == 1
        await screenshot(page, f"overview-{name}-{db}")
        assert errors == []
        await page.context.close()


async def test_chinese_for_a_chinese_operator(
    dash: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    browser: Any,  # noqa: F811
) -> None:
    await _a_day(dash, sandbox)
    url = mini_app_url(dash, "", init_data(clock.now(), language="zh-hans"))
    page, errors = await open_page(browser, url, PHONE, locale="zh-CN")
    await page.wait_for_selector(f'[data-figure="{COMMUNITY}:joins"]')
    assert "今日" in await page.locator("h1").inner_text()
    assert "新加入" in await page.locator('svg[data-chart="joins"]').inner_html()
    await screenshot(page, "overview-phone-zh")
    assert errors == []


async def test_forged_init_data_shows_no_figures(
    dash: SopBot,
    clock: ManualClock,
    browser: Any,  # noqa: F811
) -> None:
    forged = init_data(clock.now(), token="424242:another-bots-token")
    page, _ = await open_page(browser, mini_app_url(dash, "", forged), PHONE)
    await page.wait_for_selector('[data-state="denied"]')
    assert await page.locator("[data-figure]").count() == 0
    assert await page.locator("svg.chart").count() == 0


async def test_a_desktop_signs_in_with_the_login_link(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    browser: Any,  # noqa: F811
) -> None:
    # a loopback http DASHBOARD_URL: local development, the one place the cookie is not Secure;
    # Telegram takes an http Mini App only in its test environment
    sandbox.world.test_environment = True
    async with dashboard_app(
        sandbox, config, clock, database_url, url="http://127.0.0.1:1/"
    ) as app:
        await settle(app, sandbox)
        sandbox.user_sends(OPERATOR, "/dashboard")
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)
        sent = sandbox.sent_messages(OPERATOR)[0]
        assert sent.reply_markup == {
            "inline_keyboard": [
                [{"text": "📊 Open the dashboard", "web_app": {"url": "http://127.0.0.1:1/"}}]
            ]
        }  # the login link is in the text: no URL button on a loopback address
        token = LOGIN.search(sent.text)
        assert token and app.dashboard is not None
        page, errors = await open_page(
            browser, f"{app.dashboard.url}/login/{token.group(1)}", DESKTOP
        )
        await page.click("button[type=submit]")
        await page.wait_for_selector(f'[data-figure="{COMMUNITY}:joins"]')
        await screenshot(page, "overview-desktop-login")
        assert errors == []
