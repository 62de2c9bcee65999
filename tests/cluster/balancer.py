"""A small HTTP load balancer on loopback, as nginx does it with its defaults: requests go to
the backends in turn (round robin); a backend that refuses the connection is skipped for
``fail_timeout`` seconds (nginx: ``max_fails=1 fail_timeout=10s``) and the request goes to the
next one (``proxy_next_upstream error``); an answer, whatever its status, is passed back as it
is. With every backend down the answer is ``502 Bad Gateway``."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

#: request headers not passed on (hop-by-hop, or set again by the client session)
_DROPPED = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding"})


class Balancer:
    """``await Balancer(["http://127.0.0.1:8101", ...]).start()`` → its base URL."""

    def __init__(self, backends: list[str], *, fail_timeout: float = 10.0) -> None:
        if not backends:
            raise ValueError("balancer: no backends")
        self.backends = [b.rstrip("/") for b in backends]
        self.fail_timeout = fail_timeout
        #: requests answered, per backend
        self.answered: Counter[str] = Counter()
        #: connections refused, per backend
        self.refused: Counter[str] = Counter()
        self._next = 0
        self._down_until: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=120), auto_decompress=False
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _order(self) -> list[str]:
        """The backends to try for one request: the next in turn first, those marked down
        last (nginx tries them when every backend is down)."""
        start = self._next
        self._next = (self._next + 1) % len(self.backends)
        turn = self.backends[start:] + self.backends[:start]
        now = asyncio.get_running_loop().time()
        up = [b for b in turn if self._down_until.get(b, 0.0) <= now]
        return up or turn

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        for backend in self._order():
            try:
                async with self._http.request(
                    request.method, backend + request.rel_url.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    self.answered[backend] += 1
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in _DROPPED}
                    return web.Response(status=answer.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:
                self.refused[backend] += 1
                self._down_until[backend] = asyncio.get_running_loop().time() + self.fail_timeout
                log.info("balancer: %s refused the connection; next backend", backend)
            except aiohttp.ServerDisconnectedError:  # died mid-request: nginx does not resend
                self.refused[backend] += 1
                self._down_until[backend] = asyncio.get_running_loop().time() + self.fail_timeout
                return web.Response(status=502, text="Bad Gateway")
        return web.Response(status=502, text="Bad Gateway")
