"""The composition root: database, Bot, Dispatcher, delivery and welcome loops, wired once.

Only ``bot.__main__``, the demo and the tests import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiohttp import web

import handlers
from bot.config import CommunityConfig, Settings, load_config
from bot.db.migrate import upgrade
from bot.db.repositories import RollupRepository, UpdateRepository
from bot.db.session import Database
from bot.delivery.files import FileCleanupHook, StoredFiles
from bot.delivery.limiter import Limits, RateLimiter
from bot.delivery.loop import DeliveryLoop
from bot.delivery.sender import TelegramSender
from bot.errors import SopbotError
from bot.growth_jobs import GrowthJobs
from bot.orders_api import OrdersApi
from bot.receiving import GuardedRequestHandler, Poller, UpdateFaults
from bot.redact import Redactor, install_log_redaction
from bot.rendering import Renderer, build_renderer
from bot.runtime import ConfigHolder, Runtime, services_for
from bot.services import BotIdentity
from bot.services.broadcast_delivery import BroadcastDeliveryHook
from bot.services.moderation import ModerationDeliveryHook
from bot.services.welcome import WelcomeDeliveryHook
from bot.ticker import Ticker
from handlers.filters import OperatorDirectory
from handlers.middlewares import UpdateContextMiddleware
from handlers.moderation import ChatAdmins, ModerationPrefetch
from sop.clock import Clock, SystemClock

log = logging.getLogger(__name__)

#: the welcome loop looks at least this often, even when nothing woke it
WELCOME_POLL = timedelta(minutes=5)
#: Telegram keeps an undelivered update for 24 hours; ids are remembered a little longer
UPDATE_MEMORY = timedelta(hours=48)
HOUSEKEEPING_EVERY = timedelta(hours=1)
#: updates of one getUpdates batch handled at once (PostgreSQL runs them side by side)
UPDATE_CONCURRENCY = 32
MEMBER_COUNT_EVERY = timedelta(minutes=15)
#: the SOP loop looks at least this often (it is woken by group messages, which may open
#: questions, and sleeps until the next fire or deadline otherwise)
SOP_POLL = timedelta(minutes=5)
#: the reports and alerts loop looks at least this often (reports wake it at their times)
REPORTS_POLL = timedelta(minutes=5)
#: the lifecycle loop (a daily pass at tags.daily_at) looks at least this often
LIFECYCLE_POLL = timedelta(hours=1)
#: the broadcast pump looks at least this often (a running broadcast: every second)
BROADCAST_POLL = timedelta(seconds=30)


class SopBot:
    """One running bot. ``async with SopBot(...) as app:`` starts everything; leaving stops it."""

    def __init__(
        self,
        settings: Settings,
        config: CommunityConfig,
        *,
        clock: Clock | None = None,
        renderer: Renderer | None = None,
        limits: Limits | None = None,
        polling_timeout: int = 10,
    ) -> None:
        if settings.bot_token is None:
            raise SopbotError("BOT_TOKEN is not set")
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.config = ConfigHolder(
            config, renderer or build_renderer(config, settings.sopbot_config.parent)
        )
        self.db = Database(settings.database_url)
        self.sessions = self.db.sessions
        self.bot = Bot(
            settings.bot_token.get_secret_value(),
            session=AiohttpSession(
                api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/"))
            ),
        )
        self.limiter = RateLimiter(limits)
        #: the secrets of these settings, kept out of the logs (while started) and stored errors
        self.redactor = Redactor.from_settings(settings)
        self._undo_redaction: Callable[[], None] = lambda: None
        self.delivery = DeliveryLoop(
            self.db,
            TelegramSender(self.bot, files=StoredFiles(self.db), redactor=self.redactor),
            self.clock,
            self.limiter,
            hooks=[
                WelcomeDeliveryHook(self.config),
                BroadcastDeliveryHook(self._broadcast_progress),
                FileCleanupHook(),
                ModerationDeliveryHook(),
            ],
        )
        self.dispatcher = Dispatcher()
        self._polling_timeout = polling_timeout
        self._polling_stop = asyncio.Event()
        self._welcome = Ticker("welcome", self.plan_greetings, self.clock, poll=WELCOME_POLL)
        self._sop = Ticker("sop", self.run_sop, self.clock, poll=SOP_POLL)
        self._tickers = [
            self._welcome,
            self._sop,
            Ticker("housekeeping", self._housekeeping, self.clock, poll=HOUSEKEEPING_EVERY),
            Ticker("member counts", self._count_members, self.clock, poll=MEMBER_COUNT_EVERY),
        ]
        self._broadcasts = Ticker(
            "broadcasts", self.run_broadcasts, self.clock, poll=BROADCAST_POLL
        )
        self._tickers.append(self._broadcasts)
        self._tickers.append(
            Ticker("lifecycle", self.run_lifecycle, self.clock, poll=LIFECYCLE_POLL)
        )
        self._tickers.append(Ticker("reports", self.run_reports, self.clock, poll=REPORTS_POLL))
        #: issue 4: the daily value-tier pass and the referral check
        self.growth = GrowthJobs(
            self.db, self.clock, self.config, lambda: self.runtime, self.delivery.wake
        )
        self._tickers += self.growth.tickers()
        #: POST /api/orders for shops, when ORDERS_SECRET is set (polling and webhook mode)
        self.orders_api = (
            OrdersApi(
                settings.orders_secret.get_secret_value(),
                settings.orders_listen,
                self.db,
                self.clock,
                self.config,
            )
            if settings.orders_secret is not None
            else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        #: what getUpdates asks for; changed in place on a reload (edits once moderation is on)
        self._allowed_updates = handlers.allowed_updates(config)
        self.runtime: Runtime | None = None
        #: updates that could not be parsed (skipped) or that the infrastructure failed (retried)
        self.update_faults = UpdateFaults()

    async def __aenter__(self) -> SopBot:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._undo_redaction = install_log_redaction(self.redactor)
        try:
            await self.db.check()  # an unusable DATABASE_URL is one line, not a traceback
            await upgrade(self.db.engine)
            me = await self.bot.get_me()
        except BaseException:  # a wrong token, an unreachable API, a broken database
            await self.bot.session.close()
            await self.db.dispose()
            self._undo_redaction()
            raise
        identity = BotIdentity(id=me.id, username=me.username or "")
        self.runtime = Runtime(
            db=self.db,
            clock=self.clock,
            config=self.config,
            identity=identity,
            config_dir=self.settings.sopbot_config.parent,
            after_commit=self._after_commit,
        )
        admins = ChatAdmins()  # group admins are moderators: asked before the transaction
        self.dispatcher.update.outer_middleware(ModerationPrefetch(self.config, admins))
        self.dispatcher["admins"] = admins
        self.dispatcher.update.outer_middleware(UpdateContextMiddleware(self.runtime))
        self.dispatcher.include_router(handlers.setup())
        operators = OperatorDirectory()
        team_chat = self.config.current.team.chat
        if team_chat is not None:  # teammates from before: asked again before they count
            async with self.db.transaction() as session:
                operators.seed(
                    team_chat, await services_for(self.runtime, session).community.known_teammates()
                )
        self.dispatcher["operators"] = operators
        self.dispatcher["reload_config"] = self.reload_config
        log.info(
            "bot @%s (%d) starting; communities: %s",
            identity.username,
            identity.id,
            ", ".join(str(c.chat_id) for c in self.config.current.communities),
        )
        self._tasks = [
            asyncio.create_task(self.delivery.run(), name="delivery"),
            *(asyncio.create_task(ticker.run(), name=ticker.name) for ticker in self._tickers),
            asyncio.create_task(self._receive(), name="updates"),
        ]
        if self.db.file is not None:  # SQLite: a deleted or replaced file stops the bot
            self._tasks.append(
                asyncio.create_task(self.db.watch_file(self._polling_stop), name="database file")
            )
        if self.orders_api is not None:  # ends when stop() sets _polling_stop
            self._tasks.append(
                asyncio.create_task(self.orders_api.serve(self._polling_stop), name="orders api")
            )

    async def stop(self) -> None:
        """Stops taking updates, lets the loops finish what they hold, closes everything."""
        self._polling_stop.set()  # the batch in hand is finished and confirmed first
        for task in self._tasks:
            if task.get_name() == "updates" and self.settings.webhook_url:
                task.cancel()  # the webhook server runs until cancelled
        for ticker in self._tickers:
            ticker.stop()
        self.delivery.stop()
        await self._close(grace=15)

    async def abort(self) -> None:
        """Stops dead, handing nothing back, as a killed process would (crash tests)."""
        await self.delivery.abort()  # the receiving task is cancelled mid-batch by _close
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
        self._undo_redaction()

    async def wait(self) -> None:
        """Until a task ends (it should not: an ending task is a crash)."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()

    async def is_idle(self) -> bool:
        """No update being handled and nothing due in the outbox."""
        if self.runtime is not None and self.runtime.updates_in_flight:
            return False
        now = self.clock.now()
        if any(ticker.busy(now) for ticker in self._tickers):
            return False
        return await self.delivery.is_idle()

    async def wait_idle(
        self, pending_updates: Callable[[], int] = lambda: 0, *, timeout: float = 30.0
    ) -> None:
        """Until no update is queued (``pending_updates`` asks the server), none is being
        handled and nothing is due in the outbox, three checks in a row (an update fetched but
        not yet dispatched is a few ms away). Real time; for the demo and tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while quiet < 3:
            if loop.time() > deadline:
                raise SopbotError(
                    f"bot still busy after {timeout}s "
                    f"({pending_updates()} updates queued, {self.delivery.held} "
                    "messages held)"
                )
            quiet = quiet + 1 if pending_updates() == 0 and await self.is_idle() else 0
            await asyncio.sleep(0.005 if quiet else 0.01)

    def _after_commit(self, joined: bool, group_message: bool) -> None:
        self.delivery.wake()
        if joined:
            self._welcome.wake()
        if group_message:  # a question may have opened: its deadline may come first
            self._sop.wake_by(self.clock.now() + self.config.current.first_response.within)

    async def _receive(self) -> None:
        """Updates by long polling, or by webhook when ``WEBHOOK_URL`` is set."""
        if self.settings.webhook_url:
            await self._serve_webhook(self.settings.webhook_url)
            return
        await self.bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses otherwise
        await self._poll()

    async def _poll(self) -> None:
        """Long polling that confirms an update only once it is done (``bot.receiving``)."""
        await Poller(
            self.bot,
            self.dispatcher,
            self._polling_stop,
            timeout=self._polling_timeout,
            allowed_updates=self._allowed_updates,
            concurrency=UPDATE_CONCURRENCY,
            faults=self.update_faults,
        ).run()

    async def _serve_webhook(self, url: str) -> None:
        # Without a secret anyone who finds the URL could post forged updates (a /kpi "from" an
        # operator): when none is configured, one is made for this run; Telegram echoes it.
        secret = (
            self.settings.webhook_secret.get_secret_value()
            if self.settings.webhook_secret
            else secrets.token_urlsafe(32)
        )
        host, _, port = self.settings.webhook_listen.rpartition(":")
        server = web.Application()
        GuardedRequestHandler(
            self.dispatcher, self.bot, secret_token=secret, faults=self.update_faults
        ).register(server, path=urlsplit(url).path or "/")
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
            log.info("webhook server listening on %s:%s", host, port)
            # listening first: Telegram's first push must find us
            await self.bot.set_webhook(
                url, allowed_updates=self._allowed_updates, secret_token=secret
            )
            await asyncio.Event().wait()  # until cancelled by stop()
        finally:
            await runner.cleanup()

    async def _housekeeping(self) -> datetime:
        """Forgets handled update ids once Telegram can no longer redeliver them."""
        async with self.db.transaction() as session:
            await UpdateRepository(session).forget_before(self.clock.now() - UPDATE_MEMORY)
        return self.clock.now() + HOUSEKEEPING_EVERY

    async def _count_members(self) -> datetime:
        """Telegram's member count of each community (the ledger only knows joins it saw)."""
        config = self.config.current
        counts = {}
        for community in config.communities:
            try:  # a network call: outside any transaction
                counts[community.chat_id] = await self.bot.get_chat_member_count(community.chat_id)
            except TelegramAPIError as error:
                log.warning("member count of %d unavailable: %s", community.chat_id, error.message)
        day = self.clock.now().astimezone(config.tz).date()
        async with self.db.transaction() as session:
            for chat_id, count in counts.items():
                await RollupRepository(session).set_members_reported(chat_id, day, count)
        return self.clock.now() + MEMBER_COUNT_EVERY

    async def run_sop(self) -> datetime | None:
        """One SOP tick: carries out what is due; returns when the next thing falls due."""
        assert self.runtime is not None
        now = self.clock.now()
        next_schedule = next_question = None
        try:  # one failing part must not hold back the other: separate transactions
            async with self.db.transaction() as session:
                next_schedule = await services_for(self.runtime, session).schedules.carry_out_due(
                    now
                )
        except Exception:
            log.exception("carrying out the schedules failed")
        async with self.db.transaction() as session:
            next_question = await services_for(self.runtime, session).questions.act_on_overdue(now)
        self.delivery.wake()
        times = [t for t in (next_schedule, next_question) if t is not None]
        return min(times) if times else None

    async def run_broadcasts(self) -> datetime | None:
        """Running broadcasts: backlog refilled, progress edited, tallies and A/B reports."""
        assert self.runtime is not None
        async with self.db.transaction() as session:
            wake = await services_for(self.runtime, session).broadcasts.pump(self.clock.now())
        self.delivery.wake()
        return wake

    def _broadcast_progress(self) -> None:
        """A broadcast's copy was settled: the pump refills its backlog within a second."""
        self._broadcasts.wake_by(self.clock.now() + timedelta(seconds=1))

    async def run_lifecycle(self) -> datetime:
        """The daily lifecycle pass when its time has come (claimed per day: one instance
        does it), then the win-back DMs, a batch per transaction; returns the next pass time."""
        assert self.runtime is not None
        now = self.clock.now()
        async with self.db.transaction() as session:
            lifecycle = services_for(self.runtime, session).lifecycle
            done = await lifecycle.daily_pass(now)
            next_pass = lifecycle.next_pass(now)
        if done is not None:
            sent = 0
            while True:
                async with self.db.transaction() as session:
                    batch = await services_for(self.runtime, session).lifecycle.winback_batch(
                        now, sent
                    )
                if not batch:
                    break
                sent += batch
                self.delivery.wake()
        return next_pass

    async def run_reports(self) -> datetime | None:
        """Daily and weekly reports whose time has come (each once), then the alerts."""
        assert self.runtime is not None
        now = self.clock.now()
        wake: list[datetime | None] = []
        try:  # a failing report must not hold back the alerts: separate transactions
            async with self.db.transaction() as session:
                wake.append(await services_for(self.runtime, session).reports.run_due(now))
        except Exception:
            log.exception("the reports failed")
        async with self.db.transaction() as session:
            services = services_for(self.runtime, session)
            wake.append(await services.alerts.check(now))
            wake.append(await services.complaints.remind_due(now))
        self.delivery.wake()
        times = [t for t in wake if t is not None]
        return min(times) if times else None

    async def reload_config(self) -> CommunityConfig:
        """Reads the config file again and swaps it in whole; an invalid file raises
        :class:`ConfigError` and leaves the running SOP untouched."""
        path = self.settings.sopbot_config
        config = await asyncio.to_thread(
            load_config, path, catalog=lambda c: build_renderer(c, path.parent)
        )
        self.config.swap(config, build_renderer(config, path.parent))
        self._allowed_updates[:] = handlers.allowed_updates(config)
        self._sop.wake()
        self._welcome.wake()
        log.info("config reloaded from %s", path)
        return config

    async def plan_greetings(self) -> datetime | None:
        assert self.runtime is not None
        async with self.db.transaction() as session:
            services = services_for(self.runtime, session)
            next_check = await services.welcome.plan_group_greetings(self.clock.now())
        self.delivery.wake()
        return next_check
