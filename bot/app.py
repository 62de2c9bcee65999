"""The composition root: database, Bot, Dispatcher, delivery and welcome loops, wired once.

Only ``bot.__main__``, the demo and the tests import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

import handlers
from bot.config import CommunityConfig, Settings
from bot.db.migrate import upgrade
from bot.db.repositories import UpdateRepository
from bot.db.session import Database
from bot.delivery.limiter import Limits, RateLimiter
from bot.delivery.loop import DeliveryLoop
from bot.delivery.sender import TelegramSender
from bot.errors import SopbotError
from bot.rendering import Renderer, build_renderer
from bot.runtime import ConfigHolder, Runtime
from bot.services import BotIdentity, Services
from bot.services.welcome import WelcomeDeliveryHook
from handlers.filters import OperatorDirectory
from handlers.middlewares import UpdateContextMiddleware
from sop.clock import Clock, SystemClock, sleep_or_wake

log = logging.getLogger(__name__)

#: the welcome loop looks at least this often, even when nothing woke it
WELCOME_POLL = timedelta(minutes=5)
#: Telegram keeps an undelivered update for 24 hours; ids are remembered a little longer
UPDATE_MEMORY = timedelta(hours=48)
HOUSEKEEPING_EVERY = timedelta(hours=1)


class SopBot:
    """One running bot. ``async with SopBot(...) as app:`` starts everything; leaving stops it."""

    def __init__(self, settings: Settings, config: CommunityConfig, *, clock: Clock | None = None,
                 renderer: Renderer | None = None, limits: Limits | None = None,
                 polling_timeout: int = 10) -> None:
        if settings.bot_token is None:
            raise SopbotError("BOT_TOKEN is not set")
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.config = ConfigHolder(config)
        self.renderer = renderer or build_renderer(config, settings.sopbot_config.parent)
        self.db = Database(settings.database_url)
        self.sessions = self.db.sessions
        self.bot = Bot(settings.bot_token.get_secret_value(), session=AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/"))))
        self.limiter = RateLimiter(limits)
        self.delivery = DeliveryLoop(self.db, TelegramSender(self.bot), self.clock,
                                     self.limiter, hooks=[WelcomeDeliveryHook(config, self.renderer)])
        self.dispatcher = Dispatcher()
        self._polling_timeout = polling_timeout
        self._welcome_wake = asyncio.Event()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.runtime: Runtime | None = None

    async def __aenter__(self) -> SopBot:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        try:
            await upgrade(self.db.engine)
            me = await self.bot.get_me()
        except BaseException:   # a wrong token, an unreachable API, a broken database
            await self.bot.session.close()
            await self.db.dispose()
            raise
        identity = BotIdentity(id=me.id, username=me.username or "")
        self.runtime = Runtime(db=self.db, clock=self.clock, config=self.config,
                               renderer=self.renderer, identity=identity,
                               after_commit=self._after_commit)
        self.dispatcher.update.outer_middleware(UpdateContextMiddleware(self.runtime))
        self.dispatcher.include_router(handlers.setup())
        self.dispatcher["operators"] = OperatorDirectory()
        log.info("bot @%s (%d) starting; communities: %s", identity.username, identity.id,
                 ", ".join(str(c.chat_id) for c in self.config.current.communities))
        self._tasks = [
            asyncio.create_task(self.delivery.run(), name="delivery"),
            asyncio.create_task(self._welcome_loop(), name="welcome"),
            asyncio.create_task(self._housekeeping_loop(), name="housekeeping"),
            asyncio.create_task(self._receive(), name="updates"),
        ]

    async def stop(self) -> None:
        """Stops taking updates, lets the loops finish what they hold, closes everything."""
        with contextlib.suppress(RuntimeError):  # not polling (yet)
            await self.dispatcher.stop_polling()
        for task in self._tasks:
            if task.get_name() == "updates" and self.settings.webhook_url:
                task.cancel()   # the webhook server runs until cancelled
        self._stopping = True
        self._stop_event.set()
        self._welcome_wake.set()
        self.delivery.stop()
        await self._close(grace=15)

    async def abort(self) -> None:
        """Stops dead, handing nothing back, as a killed process would (crash tests)."""
        # aiogram's polling runs in tasks of its own that cancelling ours would orphan
        with contextlib.suppress(RuntimeError):
            await self.dispatcher.stop_polling()
        await self.delivery.abort()
        await self._close(grace=0)

    async def _close(self, grace: float) -> None:
        """Gives the tasks ``grace`` seconds to end, cancels the rest, closes the resources."""
        if self._tasks and grace:
            await asyncio.wait(self._tasks, timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.bot.session.close()
        await self.db.dispose()

    async def wait(self) -> None:
        """Until a task ends (it should not: an ending task is a crash)."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()

    async def is_idle(self) -> bool:
        """No update being handled and nothing due in the outbox."""
        if self.runtime is not None and self.runtime.updates_in_flight:
            return False
        return await self.delivery.is_idle()

    async def wait_idle(self, pending_updates: Callable[[], int] = lambda: 0, *,
                        timeout: float = 30.0) -> None:
        """Until no update is queued (``pending_updates`` asks the server), none is being
        handled and nothing is due in the outbox, three checks in a row (an update fetched but
        not yet dispatched is a few ms away). Real time; for the demo and tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while quiet < 3:
            if loop.time() > deadline:
                raise SopbotError(f"bot still busy after {timeout}s "
                                  f"({pending_updates()} updates queued, {self.delivery.held} "
                                  "messages held)")
            quiet = quiet + 1 if pending_updates() == 0 and await self.is_idle() else 0
            await asyncio.sleep(0.005 if quiet else 0.01)

    def _after_commit(self, joined: bool) -> None:
        self.delivery.wake()
        if joined:
            self._welcome_wake.set()

    async def _receive(self) -> None:
        """Updates by long polling, or by webhook when ``WEBHOOK_URL`` is set."""
        if self.settings.webhook_url:
            await self._serve_webhook(self.settings.webhook_url)
            return
        await self.bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses otherwise
        await self.dispatcher.start_polling(
            self.bot, handle_signals=False, close_bot_session=False,
            allowed_updates=handlers.ALLOWED_UPDATES, polling_timeout=self._polling_timeout,
            tasks_concurrency_limit=64)

    async def _serve_webhook(self, url: str) -> None:
        secret = self.settings.webhook_secret.get_secret_value() \
            if self.settings.webhook_secret else None
        host, _, port = self.settings.webhook_listen.rpartition(":")
        server = web.Application()
        SimpleRequestHandler(self.dispatcher, self.bot, secret_token=secret).register(
            server, path=urlsplit(url).path or "/")
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
            log.info("webhook server listening on %s:%s", host, port)
            # listening first: Telegram's first push must find us
            await self.bot.set_webhook(url, allowed_updates=handlers.ALLOWED_UPDATES,
                                       secret_token=secret)
            await asyncio.Event().wait()   # until cancelled by stop()
        finally:
            await runner.cleanup()

    async def _welcome_loop(self) -> None:
        assert self.runtime is not None
        while not self._stopping:
            self._welcome_wake.clear()
            try:
                next_check = await self.plan_greetings()
            except Exception:  # keep greeting the next ones; the error is in the log
                log.exception("planning group greetings failed")
                next_check = None
            if self._stopping:
                return
            now = self.clock.now()
            fallback = now + WELCOME_POLL
            await sleep_or_wake(self.clock, min(next_check, fallback) if next_check else fallback,
                                self._welcome_wake)

    async def _housekeeping_loop(self) -> None:
        """Forgets handled update ids once Telegram can no longer redeliver them."""
        while not self._stopping:
            try:
                async with self.db.transaction() as session:
                    await UpdateRepository(session).forget_before(self.clock.now() - UPDATE_MEMORY)
            except Exception:
                log.exception("housekeeping failed")
            await sleep_or_wake(self.clock, self.clock.now() + HOUSEKEEPING_EVERY, self._stop_event)

    async def plan_greetings(self) -> datetime | None:
        assert self.runtime is not None
        async with self.db.transaction() as session:
            services = Services.create(session, self.config.current, self.renderer,
                                       self.runtime.identity)
            next_check = await services.welcome.plan_group_greetings(self.clock.now())
        self.delivery.wake()
        return next_check
