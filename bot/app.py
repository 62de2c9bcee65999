"""The composition root: database, Bot, Dispatcher, the delivery loop and the features'
routers, loops and delivery hooks (``bot.features``), wired once.

Only ``bot.__main__``, the demo, ``bot.idle`` and the tests import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher

import handlers
from bot.api_session import BotApiSession
from bot.config import CommunityConfig, Settings
from bot.config_sync import ConfigReloader, ConfigSync
from bot.dashboard.server import DashboardServer
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.delivery.files import FileCleanupHook, StoredFiles
from bot.delivery.gate import SendGate
from bot.delivery.limiter import Limits
from bot.delivery.loop import DeliveryLoop
from bot.delivery.sender import TelegramSender
from bot.errors import SopbotError
from bot.feature import Feature, team_commands
from bot.features import FEATURES
from bot.health import Health, Metrics, serve_metrics
from bot.jobs import Committed, JobContext
from bot.orders_api import OrdersApi
from bot.receiving import receive
from bot.redact import Redactor, install_log_redaction
from bot.rendering import Renderer, build_renderer
from bot.runtime import ConfigHolder, Runtime, services_for
from bot.services import BotIdentity
from bot.services.privacy_keys import privacy_key_of
from bot.shared_state import SharedState
from bot.ticker import Ticker
from bot.updates import UpdateFaults
from handlers.chatter import ChatterPath
from handlers.filters import OperatorDirectory
from sop.clock import Clock, SystemClock

log = logging.getLogger(__name__)

#: updates of one getUpdates batch handled at once (PostgreSQL runs them side by side)
UPDATE_CONCURRENCY = 32
#: tasks that follow the other processes (reloads, operator changes): cancelled at once on
#: stop(), since they never end by themselves and have nothing to hand back
FOLLOWERS = frozenset({"config", "operators"})


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
        features: tuple[Feature, ...] = FEATURES,
        redis_prefix: str | None = None,
    ) -> None:
        if settings.bot_token is None:
            raise SopbotError("BOT_TOKEN is not set")
        self.settings = settings
        self.features = features
        self.clock: Clock = clock or SystemClock()
        self.config = ConfigHolder(
            config, renderer or build_renderer(config, settings.sopbot_config.parent)
        )
        self.db = Database(settings.database_url)
        #: what several processes share in Redis (REDIS_URL), else this process's own
        self.shared = SharedState(
            settings.redis_url, settings.bot_token.get_secret_value(), redis_prefix
        )
        self.sessions = self.db.sessions
        #: /sop reload and SIGHUP, stored for the other processes; theirs followed
        self.config_sync = ConfigSync(self.db)
        self.reloader = ConfigReloader(
            settings.sopbot_config, self.config, self.config_sync, self.clock, self._applied
        )
        self.bot = Bot(
            settings.bot_token.get_secret_value(),
            session=BotApiSession(settings.telegram_api_url),
        )
        #: Telegram's limits: this process's own, or (REDIS_URL) the bot's, shared in Redis
        self.limiter: SendGate = self.shared.gate(
            self.db,
            self.clock,
            limits,
            lambda: self.config.current.team.chat,
            lambda: self.delivery.wake(),
        )
        #: GET /metrics (METRICS_LISTEN) and GET /healthz (there and on WEBHOOK_LISTEN)
        self.metrics = Metrics(
            held=lambda: self.delivery.held, paused=lambda: self.limiter.paused is not None
        )
        self.health = Health(
            self.db,
            settings.redis_url,
            lambda: {t.get_name(): t for t in self._tasks},
            paused=lambda: self.limiter.paused,
        )
        #: the secrets of these settings, kept out of the logs (while started) and stored errors
        self.redactor = Redactor.from_settings(settings)
        self._undo_redaction: Callable[[], None] = lambda: None
        #: what every feature's loops are given (its runtime is set by start())
        self.jobs = JobContext(
            self.db, self.clock, self.config, self.bot, lambda: self.delivery.wake()
        )
        self._jobs = [job for feature in features for job in feature.jobs]
        self.tickers = {
            job.name: Ticker(
                job.name, partial(job.tick, self.jobs), self.clock, poll=job.poll, linger=job.linger
            )
            for job in self._jobs
        }
        self.jobs.tickers = self.tickers
        self.delivery = DeliveryLoop(
            self.db,
            TelegramSender(self.bot, files=StoredFiles(self.db), redactor=self.redactor),
            self.clock,
            self.limiter,
            lease=timedelta(seconds=settings.delivery_lease),
            observe=lambda result: self.metrics.sends.labels(result).inc(),
            observe_wait=self.metrics.limiter_waits.inc,
            hooks=[
                *(make(self.jobs) for feature in features for make in feature.delivery_hooks),
                FileCleanupHook(),
            ],
        )
        self.dispatcher = Dispatcher()
        self._polling_timeout = polling_timeout
        self._polling_stop = asyncio.Event()
        #: POST /api/orders for shops, when ORDERS_SECRET is set (polling and webhook mode)
        self.orders_api = OrdersApi.from_settings(settings, self.db, self.clock, self.config)
        #: who is on the team: the team commands' filter and the dashboard ask it
        self.operators = OperatorDirectory()
        #: the operators' dashboard, when DASHBOARD_URL and DASHBOARD_LISTEN are set (start())
        self.dashboard: DashboardServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: what getUpdates asks for; changed in place on a reload (edits once moderation is on)
        self._allowed_updates = handlers.allowed_updates(config)
        self.runtime: Runtime | None = None
        #: updates that could not be parsed (skipped) or that the infrastructure failed (retried)
        self.update_faults = UpdateFaults()
        self._fast_path: ChatterPath | None = None

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
        identity = BotIdentity(
            id=me.id, username=me.username or "", privacy_key=privacy_key_of(self.settings)
        )
        self.runtime = Runtime(
            db=self.db,
            clock=self.clock,
            config=self.config,
            identity=identity,
            config_dir=self.settings.sopbot_config.parent,
            after_commit=self._after_commit,
            counters=self.shared.flood_counters(),
        )
        self.jobs.runtime = self.runtime
        features = self.features
        handlers.wire(
            self.dispatcher,
            self.runtime,
            handlers.setup(
                [router for feature in features for router in feature.routers],
                [router for feature in features for router in feature.fallbacks],
                team_commands(features),
            ),
        )
        operators = self.operators
        team_chat = self.config.current.team.chat
        if team_chat is not None:  # teammates from before: asked again before they count
            async with self.db.transaction() as session:
                operators.seed(
                    team_chat, await services_for(self.runtime, session).community.known_teammates()
                )
        self.dispatcher["operators"] = operators
        self.dispatcher["dashboard_url"] = (
            self.settings.dashboard_url if self.settings.dashboard_on else None
        )
        self.dashboard = DashboardServer.from_settings(
            self.settings, self.runtime, self.bot, operators
        )
        #: a batch's plain chatter, recorded together before the dispatcher sees the rest
        self._fast_path = ChatterPath(self.runtime, operators)
        #: REDIS_URL: a removal from the team chat reaches every process at once
        self.operator_sync = self.shared.operator_sync(operators)
        await self.config_sync.start()
        self.dispatcher["reload_config"] = self.reloader.reload
        log.info(
            "bot @%s (%d) starting; communities: %s",
            identity.username,
            identity.id,
            ", ".join(str(c.chat_id) for c in self.config.current.communities),
        )
        self._tasks = [
            asyncio.create_task(work, name=name) for name, work in self._work().items() if work
        ]

    def _work(self) -> dict[str, Coroutine[Any, Any, None] | None]:
        """What runs while the bot runs, by task name (``None``: not configured). The servers
        and the file watch end when stop() sets ``_polling_stop``."""
        stop, settings = self._polling_stop, self.settings
        return {
            "delivery": self.delivery.run(),
            **{name: ticker.run() for name, ticker in self.tickers.items()},
            "updates": self._receive(),
            "config": self.reloader.follow(),
            "operators": self.operator_sync.run() if self.operator_sync is not None else None,
            # SQLite: a deleted or replaced file stops the bot
            "database file": self.db.watch_file(stop) if self.db.file is not None else None,
            "metrics": (
                serve_metrics(settings.metrics_listen, self.metrics, self.health, stop)
                if settings.metrics_listen
                else None
            ),
            "orders api": self.orders_api.serve(stop) if self.orders_api is not None else None,
            "dashboard": self.dashboard.serve(stop) if self.dashboard is not None else None,
        }

    async def stop(self) -> None:
        """Stops taking updates, lets the loops finish what they hold, closes everything."""
        self._polling_stop.set()  # the batch in hand is finished and confirmed first
        for task in self._tasks:
            # the webhook server runs until cancelled; the followers hold nothing to finish
            if task.get_name() in FOLLOWERS or (
                task.get_name() == "updates" and self.settings.webhook_url
            ):
                task.cancel()
        for ticker in self.tickers.values():
            ticker.stop()
        self.delivery.stop()
        await self._close(grace=15)

    async def abort(self) -> None:
        """Stops dead, handing nothing back, as a killed process would (crash tests)."""
        await self.delivery.abort()  # the receiving task is cancelled mid-batch by _close
        await self._close(grace=0)

    async def _close(self, grace: float) -> None:
        """Gives the tasks ``grace`` seconds to end, cancels the rest, closes the resources."""
        await self.reloader.handed_on(grace)  # a reload reaches the database before it closes
        if self._tasks and grace:
            await asyncio.wait(self._tasks, timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.bot.session.close()
        await self.health.close()
        await self.limiter.close()
        await self.shared.close()
        await self.db.dispose()
        self._undo_redaction()

    async def wait(self) -> None:
        """Until a task ends (it should not: an ending task is a crash)."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()

    def _after_commit(self, joined: bool, group_message: bool) -> None:
        self.delivery.wake()
        update = Committed(joined, group_message, self.clock.now(), self.config.current)
        for job in self._jobs:
            if job.after_update is not None:
                job.after_update(self.tickers[job.name], update)

    async def _receive(self) -> None:
        await receive(
            self.bot,
            self.dispatcher,
            self.settings,
            self._polling_stop,
            self._allowed_updates,
            self.update_faults,
            self.metrics,
            self.health,
            timeout=self._polling_timeout,
            concurrency=UPDATE_CONCURRENCY,
            fast_path=self._fast_path,
        )

    async def reload_config(self) -> CommunityConfig:
        """``/sop reload`` and SIGHUP: see :meth:`ConfigReloader.reload`."""
        return await self.reloader.reload()

    def _applied(self, config: CommunityConfig) -> None:
        """A reloaded config is in: what getUpdates asks for, the loops that want a wake."""
        self._allowed_updates[:] = handlers.allowed_updates(config)
        for job in self._jobs:
            if job.on_reload:
                self.tickers[job.name].wake()
