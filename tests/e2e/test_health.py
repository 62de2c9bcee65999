"""``GET /healthz`` and ``GET /metrics`` (contract, "Several instances"): what a load balancer
and Prometheus read from a running process, on both databases."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.session import Database
from bot.health import Health
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import settings_for, unused_port
from tests.e2e.helpers import settle, webhook_settings
from tests.redis_server import SHARED_REDIS_URL, unique_prefix


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if wanted else ''} (\S+)$"
    match = re.search(pattern, text, re.M)
    assert match is not None, f"{name} {labels} not in:\n{text}"
    return float(match.group(1))


async def test_metrics_count_updates_and_sends_and_healthz_answers(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    listen = f"127.0.0.1:{unused_port()}"
    settings = settings_for(sandbox.url, database_url).model_copy(
        update={"metrics_listen": listen, "redis_url": SHARED_REDIS_URL}
    )
    app = SopBot(settings, config, clock=clock, polling_timeout=1, redis_prefix=unique_prefix())
    await app.start()
    try:
        sandbox.add_user(4101, "Mia", language_code="en")
        sandbox.user_sends(4101, "/start src_poster")
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(4101)) == 1)
        await settle(app, sandbox)
        for _ in range(100):  # the server starts beside the bot
            try:
                status, text = await _get(f"http://{listen}/metrics")
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        assert status == 200
        assert _sample(text, "sopbot_updates_total", result="ok") >= 1
        assert _sample(text, "sopbot_update_seconds_count") >= 1
        assert _sample(text, "sopbot_sends_total", result="sent") >= 1
        assert _sample(text, "sopbot_outbox_held") == 0
        assert "sopbot_limiter_waits_total" in text
        status, body = await _get(f"http://{listen}/healthz")
        assert status == 200
        assert '"database": true' in body and '"receiving": true' in body
        assert '"sending": true' in body and '"redis": true' in body
    finally:
        await app.stop()


async def test_healthz_on_the_webhook_port(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings, url = webhook_settings(sandbox.url, database_url)
    app = SopBot(settings, config, clock=clock)
    await app.start()
    try:
        await sandbox.wait_for(lambda: sandbox.world.webhook_url == url)
        status, body = await _get(url.rsplit("/", 1)[0] + "/healthz")
        assert status == 200 and '"redis": null' in body and '"status": "ok"' in body
    finally:
        await app.stop()


async def test_a_database_that_does_not_answer_is_503() -> None:
    database = Database(f"postgresql+asyncpg://sop:pw@127.0.0.1:{unused_port()}/sop")
    health = Health(database, f"redis://127.0.0.1:{unused_port()}/0", dict)
    try:
        status, body = await health.report()
    finally:
        await health.close()
        await database.dispose()
    assert status == 503
    assert body == {
        "database": False,
        "receiving": False,
        "sending": False,
        "redis": False,
        "status": "unavailable",
    }
