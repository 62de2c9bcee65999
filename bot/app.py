"""The composition root: database, Bot, Dispatcher, the delivery loop and the features'
routers, loops and delivery hooks (``bot.features``), wired once.

Only ``bot.__main__``, the demo, ``bot.idle`` and the tests import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from aiogram import Bot, Dispatcher

import handlers
from bot.api_session import BotApiSession
from bot.config import CommunityConfig, Settings, parse_config, read_config_text
from bot.config_sync import POLL as CONFIG_POLL
from bot.config_sync import ConfigSync
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.delivery.files import FileCleanupHook, StoredFiles
from bot.delivery.gate import SendGate
from bot.delivery.limiter import Limits
from bot.delivery.loop import DeliveryLoop
from bot.delivery.sender import TelegramSender
from bot.errors import ConfigError, SopbotError
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
from bot.services.privacy.keys import privacy_key
from bot.shared_state import SharedState
from bot.ticker import Ticker
from bot.updates import UpdateFaults
from handlers.filters import OperatorDirectory
from handlers.middlewares import UpdateContextMiddleware
from handlers.moderation import ChatAdmins, ModerationPrefetch
from sop.clock import Clock, SystemClock

log = logging.getLogger(__name__)

#: updates of one getUpdates batch handled at once (PostgreSQL runs them side by side)
UPDATE_CONCURRENCY = 32


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
        #: reloads stored for the other processes, and theirs followed
        self.config_sync = ConfigSync(self.db)
        self._publishing: set[asyncio.Task[None]] = set()
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
        identity = BotIdentity(
            id=me.id,
            username=me.username or "",
            privacy_key=privacy_key(
                self.settings.privacy_key.get_secret_value() if self.settings.privacy_key else None,
                self.settings.bot_token.get_secret_value() if self.settings.bot_token else None,
            ),
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
        admins = ChatAdmins()  # group admins are moderators: asked before the transaction
        self.dispatcher.update.outer_middleware(ModerationPrefetch(self.config, admins))
        self.dispatcher["admins"] = admins
        self.dispatcher.update.outer_middleware(UpdateContextMiddleware(self.runtime))
        self.dispatcher.include_router(
            handlers.setup(
                [router for feature in self.features for router in feature.routers],
                [router for feature in self.features for router in feature.fallbacks],
                team_commands(self.features),
            )
        )
        operators = OperatorDirectory()
        team_chat = self.config.current.team.chat
        if team_chat is not None:  # teammates from before: asked again before they count
            async with self.db.transaction() as session:
                operators.seed(
                    team_chat, await services_for(self.runtime, session).community.known_teammates()
                )
        self.dispatcher["operators"] = operators
        #: REDIS_URL: a removal from the team chat reaches every process at once
        self.operator_sync = self.shared.operator_sync(operators)
        await self.config_sync.start()
        self.dispatcher["reload_config"] = self.reload_config
        log.info(
            "bot @%s (%d) starting; communities: %s",
            identity.username,
            identity.id,
            ", ".join(str(c.chat_id) for c in self.config.current.communities),
        )
        self._tasks = [
            asyncio.create_task(self.delivery.run(), name="delivery"),
            *(asyncio.create_task(t.run(), name=name) for name, t in self.tickers.items()),
            asyncio.create_task(self._receive(), name="updates"),
            asyncio.create_task(self._follow_config(), name="config"),
        ]
        if self.operator_sync is not None:
            self._tasks.append(asyncio.create_task(self.operator_sync.run(), name="operators"))
        if self.db.file is not None:  # SQLite: a deleted or replaced file stops the bot
            self._tasks.append(
                asyncio.create_task(self.db.watch_file(self._polling_stop), name="database file")
            )
        if self.settings.metrics_listen:  # ends when stop() sets _polling_stop
            self._tasks.append(
                asyncio.create_task(
                    serve_metrics(
                        self.settings.metrics_listen, self.metrics, self.health, self._polling_stop
                    ),
                    name="metrics",
                )
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
        if self._publishing and grace:  # a reload is handed on before the database closes
            await asyncio.wait(self._publishing, timeout=grace)
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
        )

    async def reload_config(self) -> CommunityConfig:
        """Reads the config file again and swaps it in whole; an invalid file raises
        :class:`ConfigError` and leaves the running SOP untouched. The validated text goes to
        the database: every other process loads it within seconds (``bot/config_sync.py``)."""
        path = self.settings.sopbot_config
        text = await asyncio.to_thread(read_config_text, path)
        config = await self._parse_config(text)
        # in a task of its own: /sop reload runs inside its update's transaction, which holds
        # SQLite's write lock until the handler returns
        task = asyncio.create_task(self._publish(text), name="config publish")
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)
        self._apply_config(config)
        log.info("config reloaded from %s", path)
        return config

    async def _publish(self, text: str) -> None:
        try:
            await self.config_sync.publish(text, self.clock.now())
        except Exception:  # the others keep the config they run; this one runs the new one
            log.exception("the reloaded config could not be stored for the other processes")

    async def _follow_config(self) -> None:
        """Loads what another process reloaded (polled every ``POLL`` seconds, real time)."""
        while True:
            await asyncio.sleep(CONFIG_POLL)
            try:
                newer = await self.config_sync.newer()
                if newer is None:
                    continue
                text, digest = newer
                config = await self._parse_config(text)
            except ConfigError as error:  # e.g. a template this machine lacks
                log.error("a reload by another process is refused here: %s", error)
                continue
            except Exception as error:  # the database away a moment: the next look
                log.warning("could not look for a reloaded config: %s", type(error).__name__)
                continue
            self._apply_config(config)
            self.config_sync.running = digest
            log.info("config reloaded by another process (sha256 %s)", digest[:12])

    async def _parse_config(self, text: str) -> CommunityConfig:
        path = self.settings.sopbot_config
        return await asyncio.to_thread(
            parse_config, text, str(path), catalog=lambda c: build_renderer(c, path.parent)
        )

    def _apply_config(self, config: CommunityConfig) -> None:
        path = self.settings.sopbot_config
        self.config.swap(config, build_renderer(config, path.parent))
        self._allowed_updates[:] = handlers.allowed_updates(config)
        for job in self._jobs:
            if job.on_reload:
                self.tickers[job.name].wake()
