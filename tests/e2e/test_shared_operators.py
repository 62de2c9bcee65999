"""The operator directory across processes (``REDIS_URL``, bot/operator_sync.py): a teammate
removed from the team chat, as one process learns it, loses operator rights in the other at
once, not when its cache entry expires (five minutes)."""

from __future__ import annotations

import asyncio

from bot.app import SopBot
from bot.config import CommunityConfig
from handlers.filters import OperatorDirectory
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import TEAM_CHAT
from tests.e2e.helpers import webhook_settings
from tests.redis_server import SHARED_REDIS_URL, unique_prefix

TEAMMATE = 4301


async def _until(predicate: object, seconds: float = 2.0) -> None:
    assert callable(predicate)
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the change did not reach the other process")


async def test_a_removal_reaches_the_other_process_at_once(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    prefix = unique_prefix()
    apps = []
    for _ in range(2):
        settings, _url = webhook_settings(sandbox.url, database_url)
        settings = settings.model_copy(update={"redis_url": SHARED_REDIS_URL})
        apps.append(SopBot(settings, config, clock=clock, redis_prefix=prefix))
    for app in apps:
        await app.start()
    try:
        one, two = apps
        for app in apps:
            assert app.operator_sync is not None
            await asyncio.wait_for(app.operator_sync.listening.wait(), 5)
        here: OperatorDirectory = one.dispatcher["operators"]
        there: OperatorDirectory = two.dispatcher["operators"]
        assert not there.is_known_operator(config, TEAMMATE)
        here.remember(TEAM_CHAT, TEAMMATE)  # they spoke in the team chat (seen by one)
        await _until(lambda: there.is_known_operator(config, TEAMMATE))
        here.remember(TEAM_CHAT, TEAMMATE, present=False)  # chat_member: they left
        await _until(lambda: not there.is_known_operator(config, TEAMMATE))
        there.remember(TEAM_CHAT, TEAMMATE)  # and back, the other way round
        await _until(lambda: here.is_known_operator(config, TEAMMATE))
    finally:
        await asyncio.gather(*(app.stop() for app in apps))
