"""Webhook mode (``WEBHOOK_URL``): an aiohttp server Telegram posts updates to; an update is
answered ``200`` only once it is handled (``bot.receiving.GuardedRequestHandler``)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.config import Settings
from bot.receiving import GuardedRequestHandler, UpdateFaults

log = logging.getLogger(__name__)


async def serve_webhook(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: Settings,
    url: str,
    allowed_updates: list[str],
    faults: UpdateFaults,
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
    GuardedRequestHandler(dispatcher, bot, secret_token=secret, faults=faults).register(
        server, path=urlsplit(url).path or "/"
    )
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
