"""Headless Chromium for the dashboard's browser tests: Debian's /usr/bin/chromium driven by
Playwright (its own browser download cannot be reached); skipped, with one line saying why,
where there is no Chromium. Screenshots go to the git-ignored artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.app import SopBot

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = (
    "no /usr/bin/chromium: the dashboard's browser tests need it "
    "(apt-get install -y chromium fonts-noto-cjk)"
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        chromium = await driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


def mini_app_url(app: SopBot, path: str, init_data: str) -> str:
    """The page as Telegram opens a Mini App: the init data in the fragment."""
    assert app.dashboard is not None and app.dashboard.url is not None
    fragment = f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=ios"
    return f"{app.dashboard.url}/{path}#{fragment}"


async def open_page(
    browser: Any, url: str, viewport: dict[str, int], locale: str = "en"
) -> tuple[Any, list[str]]:
    """A new page at ``viewport`` on ``url``, and the script errors and failed loads seen."""
    context = await browser.new_context(viewport=viewport, locale=locale)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    await page.goto(url)
    return page, errors


async def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
