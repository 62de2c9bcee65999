"""Webhook mode (``WEBHOOK_URL``): an aiohttp server Telegram posts updates to; an update is
answered ``200`` only once it is handled (:class:`GuardedRequestHandler`). Requests that arrive
together (Telegram keeps up to ``max_connections`` in flight) share one fast-path transaction
(:class:`Burst`), as a polled batch does."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.failures import describe, is_infrastructure_error
from bot.health import Health, Metrics, add_health_route
from bot.updates import FastPath, UpdateFaults, parse_update

log = logging.getLogger(__name__)

#: seconds a webhook request waits for others to share its fast-path transaction
BURST_WINDOW = 0.002


class Burst:
    """The updates posted within :data:`BURST_WINDOW` of each other, handed to the fast path
    (``handlers/chatter.py``) together; each request learns whether its update was done there
    (else it goes on to the dispatcher), or gets the infrastructure's error (then 503)."""

    def __init__(self, fast_path: FastPath, metrics: Metrics, window: float = BURST_WINDOW):
        self._fast_path = fast_path
        self._metrics = metrics
        self._window = window
        self._waiting: list[tuple[Update, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None
        #: flushes still running (the next burst may start before the last one committed)
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, update: Update) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((update, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
            self._running.add(self._flushing)
            self._flushing.add_done_callback(self._running.discard)
        return await done

    async def aclose(self) -> None:
        """Lets the flushes in hand commit (their requests were cancelled with the server:
        Telegram posts those updates again, and what committed is a no-op then)."""
        if self._running:
            await asyncio.wait(self._running)

    async def _flush(self) -> None:
        await asyncio.sleep(self._window)
        batch, self._waiting, self._flushing = self._waiting, [], None
        try:
            with self._metrics.timing_batch() as timing:
                handled = await self._fast_path([update for update, _ in batch])
                timing(len(handled))
        except Exception as error:  # the infrastructure's (the fast path keeps the rest)
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        for update, done in batch:
            if not done.done():
                done.set_result(update.update_id in handled)


class GuardedRequestHandler(SimpleRequestHandler):
    """The webhook: a body that can never parse as an Update is answered 200 (Telegram would
    post it again and again), counted and logged by id and type; an update the infrastructure
    failed is answered 503, so Telegram posts it again. The secret is checked first, as by
    aiogram (a wrong one is 401)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        faults: UpdateFaults,
        metrics: Metrics,
        burst: Burst | None = None,
    ) -> None:
        # handled before the answer goes back: a crash mid-update makes Telegram send it again
        super().__init__(dispatcher, bot, secret_token=secret_token, handle_in_background=False)
        self._faults = faults
        self._metrics = metrics
        self._burst = burst

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            raw = await request.json(loads=bot.session.json_loads)
        except ValueError:
            self._faults.unparsable += 1
            log.error(
                "a webhook body that is not JSON (%d bytes); skipped", request.content_length or 0
            )
            return web.json_response({})
        update = parse_update(raw, bot)
        if update is None:
            self._faults.unparsable += 1
            return web.json_response({})
        result: TelegramMethod[Any] | None = None
        try:
            if self._burst is None or not await self._burst.submit(update):
                with self._metrics.timing_update():
                    result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        except Exception as error:
            if not is_infrastructure_error(error):
                raise
            self._faults.infrastructure += 1
            log.warning(
                "update %d: the infrastructure failed (%s); answered 503 for Telegram "
                "to send it again",
                update.update_id,
                describe(error),
            )
            return web.Response(status=503, text="Service Unavailable")
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


async def serve_webhook(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: Settings,
    url: str,
    allowed_updates: list[str],
    faults: UpdateFaults,
    metrics: Metrics,
    health: Health,
    fast_path: FastPath | None = None,
) -> None:
    """Listens on ``WEBHOOK_LISTEN``, then tells Telegram the URL; runs until cancelled."""
    # Without a secret anyone who finds the URL could post forged updates (a /kpi "from" an
    # operator): when none is configured, one is made for this run; Telegram echoes it.
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    host, _, port = settings.webhook_listen.rpartition(":")
    server = web.Application()
    burst = Burst(fast_path, metrics) if fast_path is not None else None
    GuardedRequestHandler(
        dispatcher, bot, secret_token=secret, faults=faults, metrics=metrics, burst=burst
    ).register(server, path=urlsplit(url).path or "/")
    add_health_route(server, health)  # GET /healthz for the load balancer
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
        log.info("webhook server listening on %s:%s", host, port)
        # listening first: Telegram's first push must find us
        await bot.set_webhook(url, allowed_updates=allowed_updates, secret_token=secret)
        await asyncio.Event().wait()  # until cancelled by SopBot.stop()
    finally:
        await runner.cleanup()
        if burst is not None:  # before the database closes
            await burst.aclose()
