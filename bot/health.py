"""What a process tells a load balancer and a monitoring system about itself.

* ``GET /healthz`` (on ``WEBHOOK_LISTEN`` in webhook mode, and on ``METRICS_LISTEN`` when set):
  200 while the process can take updates (its database answers and its receiving task runs), 503
  otherwise; the JSON body says each part: database, receiving, sending (the delivery loop runs
  and is not paused; ``sending_paused`` says why when it is: the shared limits in Redis cannot
  be asked), Redis (reachable, when ``REDIS_URL`` is set).
* ``GET /metrics`` on ``METRICS_LISTEN``: Prometheus' text format (``prometheus-client``), per
  process: updates handled and their handling time, outbox rows held by the delivery loop, sends
  by result (``flood`` is a 429), sends the limiter held back, whether sending is paused (Redis
  away).

Each bot has its own registry (a process may run several, as the tests do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.db.session import Database

log = logging.getLogger(__name__)

#: how long each part of a health check may take before it counts as down
PROBE_TIMEOUT = 2.0


class Metrics:
    """The process's figures, on a registry of its own."""

    def __init__(
        self, held: Callable[[], int] = lambda: 0, paused: Callable[[], bool] = lambda: False
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "sopbot_updates",
            "Updates handled, by result (ok; failed: the infrastructure failed it, it comes again)",
            ["result"],
            registry=self.registry,
        )
        self.updates_bulk = Counter(
            "sopbot_updates_bulk",
            "Updates handled in their batch's bulk transaction (plain chatter; also in updates)",
            registry=self.registry,
        )
        self.bulk_batches = Counter(
            "sopbot_bulk_batches",
            "Bulk transactions that handled plain chatter (updates_bulk ÷ this: per transaction)",
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "sopbot_update_seconds",
            "Time to handle one update, its transaction included",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.sends = Counter(
            "sopbot_sends",
            "Bot API calls of the outbox by result (sent, sent_unknown, retry, flood: a 429, "
            "unreachable, failed)",
            ["result"],
            registry=self.registry,
        )
        self.limiter_waits = Counter(
            "sopbot_limiter_waits",
            "Times a due outbox row was held back by a send limit (global, per chat, retry_after)",
            registry=self.registry,
        )
        self.outbox_held = Gauge(
            "sopbot_outbox_held",
            "Outbox rows the delivery loop holds (claimed, queued or in flight)",
            registry=self.registry,
        )
        self.outbox_held.set_function(lambda: float(held()))
        self.sending_paused = Gauge(
            "sopbot_sending_paused",
            "1 while sending is paused because the shared limits (Redis) cannot be asked",
            registry=self.registry,
        )
        self.sending_paused.set_function(lambda: 1.0 if paused() else 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    @contextlib.contextmanager
    def timing_update(self) -> Any:
        """Around one update: counted ``ok`` unless it raises (then ``failed``)."""
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            self.updates.labels("failed").inc()
            raise
        else:
            self.updates.labels("ok").inc()
        finally:
            self.update_seconds.observe(time.perf_counter() - started)

    @contextlib.contextmanager
    def timing_batch(self) -> Any:
        """Around a batch's fast path (``handlers/chatter.py``): yields ``done(n)``, to say how
        many updates it handled; each counted ``ok`` with its share of the time."""
        started = time.perf_counter()
        handled = [0]

        def done(n: int) -> None:
            handled[0] = n

        yield done
        if handled[0]:
            self.updates.labels("ok").inc(handled[0])
            self.updates_bulk.inc(handled[0])
            self.bulk_batches.inc()
            share = (time.perf_counter() - started) / handled[0]
            for _ in range(handled[0]):
                self.update_seconds.observe(share)


@dataclass
class Health:
    """Probes the parts a process needs; ``tasks`` are the running bot's (by name)."""

    db: Database
    redis_url: str | None
    tasks: Callable[[], dict[str, asyncio.Task[None]]]
    #: why sending is paused (the shared limits cannot be asked), ``None`` while it runs
    paused: Callable[[], str | None] = lambda: None
    _redis: Any = field(default=None, repr=False)

    async def report(self) -> tuple[int, dict[str, Any]]:
        database = await self._database()
        tasks = self.tasks()
        receiving = _running(tasks.get("updates"))
        paused = self.paused()
        sending = _running(tasks.get("delivery")) and paused is None
        body: dict[str, Any] = {
            "database": database,
            "receiving": receiving,
            "sending": sending,
            "redis": await self._redis_state(),
        }
        if paused is not None:  # updates are still taken: the process stays in the balancer
            body["sending_paused"] = paused
        ok = database and receiving
        body["status"] = "ok" if ok else "unavailable"
        return (200 if ok else 503), body

    async def _database(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), self.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure is "down"; the reason goes to the log
            log.warning("health: the database did not answer: %s", type(error).__name__)
            return False
        return True

    async def _redis_state(self) -> bool | None:
        """``None`` when no Redis is configured."""
        if not self.redis_url:
            return None
        from redis.asyncio import Redis

        if self._redis is None:
            self._redis = Redis.from_url(
                self.redis_url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
            )
        try:
            await self._redis.ping()
        except Exception as error:  # any failure is "unreachable"
            log.warning("health: Redis did not answer: %s", type(error).__name__)
            return False
        return True

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def _running(task: asyncio.Task[None] | None) -> bool:
    return task is not None and not task.done()


def add_health_route(app: web.Application, health: Health) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health.report()
        return web.json_response(body, status=status)

    app.router.add_get("/healthz", healthz)


async def serve_metrics(listen: str, metrics: Metrics, health: Health, stop: asyncio.Event) -> None:
    """``GET /metrics`` and ``GET /healthz`` on ``listen`` (``host:port``) until ``stop``."""

    async def exposition(_request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/metrics", exposition)
    add_health_route(app, health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = listen.rpartition(":")
    try:
        await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
        log.info("metrics and health on %s", listen)
        await stop.wait()
    finally:
        await runner.cleanup()
