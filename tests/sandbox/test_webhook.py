"""The sandbox pushes updates to a webhook as Telegram does (sandbox/webhook.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from sandbox import TelegramSandbox
from tests.conftest import unused_port
from tests.sandbox.conftest import ANN, GROUP

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Receiver:
    """A webhook on a local port: records what it got; ``answer`` decides each reply."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.chats_in_flight: list[int] = []
        self.answer: Answer = self.ok
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._runner: web.AppRunner | None = None

    @staticmethod
    async def ok(_request: web.Request) -> web.StreamResponse:
        return web.json_response({})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            response = await self.answer(request)
        finally:
            self.in_flight -= 1
        if 200 <= response.status <= 299:
            self.got.append(body)
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def hook(sb: TelegramSandbox) -> AsyncIterator[Receiver]:
    sb.world.webhook.max_delay = 0.05  # retries without the real minutes
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_updates_are_posted_with_the_secret_in_order(
    sb: TelegramSandbox, bot: Bot, hook: Receiver
) -> None:
    sb.user_sends(ANN, "first")
    assert await bot.set_webhook(hook.url, secret_token="s3cret_-X")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    sb.user_sends(ANN, "second")
    await sb.wait_for(lambda: len(hook.got) == 2, timeout=5)
    assert [u["message"]["text"] for u in hook.got] == ["first", "second"]
    assert hook.secrets == ["s3cret_-X", "s3cret_-X"]
    info = await bot.get_webhook_info()
    assert info.url == hook.url and info.pending_update_count == 0
    assert info.last_error_message is None and info.max_connections == 40


async def test_failed_answers_are_retried_until_2xx_and_reported(
    sb: TelegramSandbox, bot: Bot, hook: Receiver
) -> None:
    failures = 3

    async def flaky(_request: web.Request) -> web.StreamResponse:
        nonlocal failures
        if failures:
            failures -= 1
            return web.Response(status=500)
        return web.json_response({})

    hook.answer = flaky
    await bot.set_webhook(hook.url)
    sb.user_sends(ANN, "hello")
    await sb.wait_for(lambda: len(sb.world.webhook.posts) >= 2, timeout=5)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None
    assert info.last_error_date.timestamp() == int(sb.world.now())
    await sb.wait_for(lambda: len(hook.got) == 1, timeout=5)
    assert [p.status for p in sb.world.webhook.posts] == [500, 500, 500, 200]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_webhook_nobody_listens_on_is_connection_refused(
    sb: TelegramSandbox, bot: Bot
) -> None:
    sb.world.webhook.max_delay = 0.05
    await bot.set_webhook(f"http://127.0.0.1:{unused_port()}/hook")
    sb.user_sends(ANN, "anyone?")
    await sb.wait_for(lambda: len(sb.world.webhook.posts) >= 2, timeout=5)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_at_most_max_connections_in_flight_and_one_per_chat(
    sb: TelegramSandbox, bot: Bot, hook: Receiver
) -> None:
    users = list(range(500, 520))
    for uid in users:
        sb.add_user(uid, f"U{uid}")
    chats: list[int] = []

    async def slow(request: web.Request) -> web.StreamResponse:
        chat = (await request.json())["message"]["chat"]["id"]
        assert chat not in chats, "two updates of one chat in flight"
        chats.append(chat)
        await asyncio.sleep(0.05)
        chats.remove(chat)
        return web.json_response({})

    hook.answer = slow
    await bot.set_webhook(hook.url, max_connections=5, allowed_updates=["message"])
    sb.user_sends(ANN, "warm-up")  # Telegram probes with one connection until a success
    await sb.wait_for(lambda: len(hook.got) == 1, timeout=5)
    for round_ in range(3):
        for uid in users:
            sb.user_sends(uid, f"m{round_}", chat_id=GROUP if uid % 2 else None)
    await sb.wait_for(lambda: len(hook.got) == 61, timeout=10)
    assert hook.most_in_flight == 5 and sb.world.webhook.max_in_flight == 5
    private = [u["message"]["text"] for u in hook.got if u["message"]["chat"]["id"] == users[0]]
    assert private == ["m0", "m1", "m2"]  # a chat's updates in order


async def test_set_webhook_refuses_what_telegram_refuses(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="a+b=")
    with pytest.raises(TelegramBadRequest, match="secret token is too long"):
        await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="a" * 257)
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("ftp://nowhere")
    assert (await bot.get_webhook_info()).url == ""
