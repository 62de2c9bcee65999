"""The real bot against the in-repo Telegram sandbox, over HTTP, on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig, Settings
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, TOKEN, settings_for
from tests.e2e.helpers import SHOP_SECRET


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[TelegramSandbox]:
    sb = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sb.add_chat(COMMUNITY, "supergroup", "Demo community")
    sb.add_chat(TEAM_CHAT, "supergroup", "Team")
    sb.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def app(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[SopBot]:
    bot = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
async def shop_app(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[SopBot]:
    """The bot with the orders endpoint on (``ORDERS_SECRET``), listening on a free port."""
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=sandbox.url,
        database_url=database_url,
        orders_secret=SHOP_SECRET,
        orders_listen="127.0.0.1:0",
    )
    bot = SopBot(settings, config, clock=clock, polling_timeout=1)
    await bot.start()
    assert bot.orders_api is not None
    await asyncio.wait_for(bot.orders_api.ready.wait(), 10)
    yield bot
    await bot.stop()
