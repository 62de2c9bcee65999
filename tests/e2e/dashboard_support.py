"""The bot with the operators' dashboard on, and a signed-in visit of it: init data signed as
Telegram signs it, login links from /dashboard (tests/e2e/test_dashboard*.py, tests/browser)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiohttp

from bot.app import SopBot
from bot.config import CommunityConfig, Settings
from bot.dashboard.initdata import sign
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TOKEN

#: what /dashboard's buttons point to (a TLS proxy in front of DASHBOARD_LISTEN in real life)
PUBLIC_URL = "https://dash.example.test/"
LOGIN = re.compile(r"/login/([A-Za-z0-9_-]{20,})")


@asynccontextmanager
async def dashboard_app(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    url: str = PUBLIC_URL,
) -> AsyncIterator[SopBot]:
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=sandbox.url,
        database_url=database_url,
        dashboard_url=url,
        dashboard_listen="127.0.0.1:0",
    )
    app = SopBot(settings, config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        assert app.dashboard is not None
        await asyncio.wait_for(app.dashboard.ready.wait(), 10)
        yield app
    finally:
        await app.stop()


def init_data(
    now: datetime,
    user_id: int = OPERATOR,
    *,
    language: str = "en",
    token: str = TOKEN,
    age: float = 60.0,
) -> str:
    """Init data as Telegram passes it to a Mini App, signed with ``token``."""
    user = {"id": user_id, "first_name": "Olga", "username": "olga", "language_code": language}
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(now.timestamp() - age)),
    }
    return sign(fields, token)


def base(app: SopBot) -> str:
    assert app.dashboard is not None and app.dashboard.url is not None
    return app.dashboard.url + "/"


async def fetch(
    app: SopBot,
    path: str = "",
    *,
    data: str | None = None,
    cookie: str | None = None,
    method: str = "GET",
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, Any]:
    """``(status, body, response headers)`` of one request to the dashboard (no redirects
    followed; cookies only as given)."""
    sent = dict(headers or {})
    if data is not None:
        sent["X-Telegram-Init-Data"] = data
    if cookie is not None:
        sent["Cookie"] = f"sopbot_dashboard={cookie}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, base(app) + path, headers=sent, data=form, allow_redirects=False
        ) as response,
    ):
        return response.status, await response.text(), response.headers
