"""``POST /api/orders``: shops report orders, signed with HMAC-SHA256 of the raw body.

Served from the bot process (polling or webhook mode) when ``ORDERS_SECRET`` is set, on
``ORDERS_LISTEN``. The header is ``X-Sopbot-Signature: sha256=<hex>``; a missing or wrong
signature is 401, a body that is not one valid order 400 with the reason, a repeated order id
200 with ``"status": "duplicate"`` and nothing counted twice. The secret is never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import web

from bot.config import CommunityConfig, Settings
from bot.db.models import Via
from bot.db.session import Database
from bot.services.commerce.orders import OrderInputError, OrderService, parse_order
from sop.clock import Clock

log = logging.getLogger(__name__)

PATH = "/api/orders"
SIGNATURE_HEADER = "X-Sopbot-Signature"
#: one order is a few hundred bytes
MAX_BODY = 64 * 1024
#: seconds between two log lines about refused signatures (a flood is one line a minute)
REFUSALS_LOGGED_EVERY = 60.0


class ConfigSource(Protocol):
    @property
    def current(self) -> CommunityConfig: ...


def signature(secret: bytes, body: bytes) -> str:
    """The header value a shop sends: ``sha256=`` and the hex HMAC of the raw body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    expected = signature(secret, body)
    given = header.strip()
    # constant time over the whole value; a wrong prefix or length is simply unequal
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


class RefusalLog:
    """Refused signatures, logged without flooding: the first at once, then at most one line
    every ``every`` seconds (of ``monotonic``) with how many were refused since the last line;
    :meth:`flush` writes the count still held (at shutdown)."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        every: float = REFUSALS_LOGGED_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._every = every
        self._monotonic = monotonic
        self._last: float | None = None
        self._held = 0
        self._latest: str | None = None

    def refused(self, remote: str | None) -> None:
        now = self._monotonic()
        self._latest = remote
        if self._last is None:
            self._log.warning(
                "orders: refused a request with a bad or missing signature from %s", remote
            )
            self._last = now
            return
        self._held += 1
        if now - self._last >= self._every:
            self.flush()
            self._last = now

    def flush(self) -> None:
        if self._held:
            self._log.warning(
                "orders: refused %d more requests with a bad or missing "
                "signature since the last such line (the latest from %s)",
                self._held,
                self._latest,
            )
            self._held = 0


def _answer(http_status: int, **body: Any) -> web.Response:
    return web.json_response(body, status=http_status)


class OrdersApi:
    def __init__(
        self, secret: str, listen: str, db: Database, clock: Clock, config: ConfigSource
    ) -> None:
        self._secret = secret.encode()
        self._listen = listen
        self._db = db
        self._clock = clock
        self._config = config
        #: ``http://host:port`` once listening (the port is chosen by the OS for ``:0``)
        self.url: str | None = None
        self.ready = asyncio.Event()
        self.refusals = RefusalLog(log)

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, clock: Clock, config: ConfigSource
    ) -> OrdersApi | None:
        """The endpoint, when ``ORDERS_SECRET`` is set (in polling and webhook mode alike)."""
        if settings.orders_secret is None:
            return None
        return cls(
            settings.orders_secret.get_secret_value(), settings.orders_listen, db, clock, config
        )

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self.post_order)
        return app

    async def serve(self, stop: asyncio.Event) -> None:
        """Listens until ``stop`` is set."""
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        host, _, port = self._listen.rpartition(":")
        try:
            site = web.TCPSite(runner, host or "127.0.0.1", int(port))
            await site.start()
            bound = runner.addresses[0] if runner.addresses else (host, int(port))
            self.url = f"http://{bound[0]}:{bound[1]}"
            self.ready.set()
            log.info("orders endpoint listening on %s%s", self.url, PATH)
            await stop.wait()
        finally:
            await runner.cleanup()
            self.refusals.flush()

    async def post_order(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, error=f"body over {MAX_BODY} bytes")
        if not signature_ok(self._secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.refusals.refused(request.remote)
            return _answer(
                401,
                error=f"bad or missing {SIGNATURE_HEADER} "
                "(sha256=<hex HMAC-SHA256 of the raw body>)",
            )
        try:
            fields = json.loads(body, parse_float=Decimal, parse_int=Decimal)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            return _answer(400, error=f"body is not JSON: {str(error)[:100]}")
        if not isinstance(fields, dict):
            return _answer(400, error="body must be one JSON object (an order)")
        for key in ("order_id", "member_id"):  # ids given as JSON numbers: as typed
            if isinstance(fields.get(key), Decimal):
                fields[key] = str(fields[key])
        config = self._config.current
        try:
            order = parse_order(fields, config.tz)
        except OrderInputError as error:
            return _answer(400, error=error.reason)
        now = self._clock.now()
        async with self._db.transaction() as session:
            outcome = await OrderService(session, config).record(order, now, via=Via.API)
        log.info("orders: %s %s (coupon: %s)", outcome.order_id, outcome.status, outcome.coupon)
        return _answer(
            200,
            order_id=outcome.order_id,
            status=outcome.status,
            member_id=outcome.user_id,
            coupon=outcome.coupon,
            coupon_detail=outcome.coupon_detail,
        )
