"""Webhook mode: with WEBHOOK_URL set the bot registers it and serves updates posted to it."""

from __future__ import annotations

import aiohttp

from bot.app import SopBot
from bot.config import CommunityConfig
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.e2e.helpers import WEBHOOK_SECRET, webhook_settings


async def test_webhook_mode_registers_and_handles_updates(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings, url = webhook_settings(sandbox.url, database_url, path="/tg/hook")
    app = SopBot(settings, config, clock=clock)
    await app.start()
    try:
        await sandbox.wait_for(lambda: any(c.method == "setWebhook" for c in sandbox.calls))
        hook = next(c for c in sandbox.calls if c.method == "setWebhook")
        assert hook.params["url"] == url
        assert "chat_join_request" in hook.params["allowed_updates"]

        sandbox.add_user(2301, "Web", language_code="en")
        sandbox.user_sends(2301, "hi")  # opens the private chat (no webhook push from here)
        start = {
            "update_id": 900001,
            "message": {
                "message_id": 1,
                "date": int(clock.now().timestamp()),
                "text": "/start src_web",
                "chat": {"id": 2301, "type": "private", "first_name": "Web"},
                "from": {"id": 2301, "is_bot": False, "first_name": "Web", "language_code": "en"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=start) as forged:  # no secret: refused
                assert forged.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            async with http.post(url, json=start, headers=headers) as response:
                assert response.status == 200
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(2301)) == 1)
        assert "Welcome, Web" in sandbox.sent_messages(2301)[0].text
    finally:
        await app.stop()


async def test_webhook_without_a_configured_secret_still_refuses_forgeries(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings, url = webhook_settings(sandbox.url, database_url, secret=None)
    app = SopBot(settings, config, clock=clock)
    await app.start()
    try:
        await sandbox.wait_for(lambda: any(c.method == "setWebhook" for c in sandbox.calls))
        secret = next(c for c in sandbox.calls if c.method == "setWebhook").params["secret_token"]
        assert len(secret) >= 32
        forged = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "/kpi",
                "chat": {"id": 6666, "type": "private", "first_name": "X"},
                "from": {"id": 1001, "is_bot": False, "first_name": "X"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
            },
        }
        async with aiohttp.ClientSession() as http, http.post(url, json=forged) as response:
            assert response.status == 401
    finally:
        await app.stop()
