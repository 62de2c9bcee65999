"""The real bot against the in-repo Telegram sandbox, over HTTP, on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, TOKEN, settings_for


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
