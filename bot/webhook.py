"""Webhook mode (``WEBHOOK_URL``): an aiohttp server Telegram posts updates to; an update is
answered ``200`` only once it is handled (:class:`GuardedRequestHandler`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.failures import describe, is_infrastructure_error
from bot.health import Health, Metrics, add_health_route
from bot.updates import UpdateFaults, parse_update

log = logging.getLogger(__name__)


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
    ) -> None:
        # handled before the answer goes back: a crash mid-update makes Telegram send it again
        super().__init__(dispatcher, bot, secret_token=secret_token, handle_in_background=False)
        self._faults = faults
        self._metrics = metrics

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
        try:
            with self._metrics.timing_update():
                result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
                    bot, update, **self.data
                )
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
    GuardedRequestHandler(
        dispatcher, bot, secret_token=secret, faults=faults, metrics=metrics
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
