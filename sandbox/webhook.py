"""Pushing updates to a webhook as Telegram's Bot API server does (``setWebhook``).

Modelled on tdlib/telegram-bot-api's ``WebhookActor``:

* each update is POSTed as JSON with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set;
* at most ``max_connections`` requests are in flight, and one per chat: a chat's updates go
  one after another, in order (the server keeps a queue per chat);
* an answer other than 2xx, or a connection that fails, is retried: at once the first time,
  then after 2, 4, 8 … seconds up to ``max_delay`` (60 s on Telegram), or after the answer's
  ``Retry-After``; ``getWebhookInfo`` then shows ``last_error_date`` and
  ``last_error_message`` ("Wrong response from the webhook: 500 Internal Server Error",
  "Connection refused", "Read timeout expired");
* while nothing has succeeded for 10 seconds (and before the first success) only one request
  is in flight: a webhook that is down is probed, not flooded.

The retry delays are real time (the network is real); ``last_error_date`` is on the sandbox
clock, like every date it gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .updates import UpdateQueue

log = logging.getLogger(__name__)

#: Telegram's WEBHOOK_MAX_RESEND_TIMEOUT (seconds)
MAX_RESEND_DELAY = 60.0
#: with no success for this long, one request at a time (seconds)
PROBE_AFTER = 10.0
MAX_RETRY_AFTER = 3600
DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class Post:
    """One POST of an update to the webhook: its answer's status, or why it failed."""

    update_id: int
    started: float  # loop time
    ended: float
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status <= 299


def update_chat(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its queue on Telegram's side); ``None`` for none."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat")
        if chat is None and isinstance(payload.get("message"), dict):
            chat = payload["message"].get("chat")  # a callback query
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


class WebhookPusher:
    """Posts the queue's updates to the webhook URL until the webhook is removed."""

    def __init__(self, queue: UpdateQueue, clock: Callable[[], float]) -> None:
        self._queue = queue
        self._clock = clock
        self.url = ""
        self.secret_token = ""
        self.max_connections = DEFAULT_MAX_CONNECTIONS
        self.allowed_updates: list[str] | None = None
        #: the longest wait between two tries of one update (Telegram: 60 s)
        self.max_delay = MAX_RESEND_DELAY
        #: seconds a request may take before it counts as failed
        self.request_timeout = 60.0
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.posts: list[Post] = []
        #: the most requests that were in flight at once
        self.max_in_flight = 0
        self._in_flight: dict[int, int | None] = {}  # update id -> chat
        self._retry_at: dict[int, float] = {}  # update id -> loop time
        self._failures: dict[int, int] = {}
        self._last_success = -math.inf
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        queue.listeners.append(self._wake.set)

    # -- setWebhook / deleteWebhook ---------------------------------------------------------

    def configure(
        self,
        url: str,
        *,
        secret_token: str,
        max_connections: int,
        allowed_updates: list[str] | None,
    ) -> None:
        """Start (or re-point) pushing; called by ``setWebhook`` on the server's loop."""
        self.url = url
        self.secret_token = secret_token
        self.max_connections = max_connections
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        self._queue.set_filter(allowed_updates)
        self._retry_at.clear()  # a new webhook is tried at once
        self._failures.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-push")
        self._wake.set()

    def remove(self) -> None:
        """``deleteWebhook``: stop pushing (requests in flight finish)."""
        self.url = ""
        self.last_error_date = self.last_error_message = None
        self._wake.set()

    async def close(self) -> None:
        """Stop the pusher and every request in flight (sandbox shutdown)."""
        self.url = ""
        tasks = [*self._requests, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- what getWebhookInfo reports --------------------------------------------------------

    def info(self, url: str, pending: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if url:
            result["max_connections"] = self.max_connections
            if self.allowed_updates is not None:
                result["allowed_updates"] = list(self.allowed_updates)
            if self.last_error_date is not None:
                result["last_error_date"] = self.last_error_date
                result["last_error_message"] = self.last_error_message
        return result

    # -- pushing ----------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self.url:
            self._wake.clear()
            next_try = self._dispatch(loop.time())
            timeout = None if next_try is None else max(next_try - loop.time(), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _capacity(self, now: float) -> int:
        if now - self._last_success > PROBE_AFTER:
            return 1
        return self.max_connections

    def _dispatch(self, now: float) -> float | None:
        """Start what may start now; return when a waiting update may be tried next."""
        busy = {chat for chat in self._in_flight.values() if chat is not None}
        blocked: set[int] = set()  # chats whose first waiting update may not go yet
        next_try: float | None = None
        for update in self._queue.waiting():
            if len(self._in_flight) >= self._capacity(now):
                break
            update_id = int(update["update_id"])
            chat = update_chat(update)
            if update_id in self._in_flight or (chat is not None and chat in busy | blocked):
                continue
            at = self._retry_at.get(update_id, 0.0)
            if at > now:
                next_try = at if next_try is None else min(next_try, at)
                if chat is not None:
                    blocked.add(chat)
                continue
            self._in_flight[update_id] = chat
            if chat is not None:
                busy.add(chat)
            self.max_in_flight = max(self.max_in_flight, len(self._in_flight))
            task = asyncio.get_running_loop().create_task(self._post(update))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)
        return next_try

    async def _post(self, update: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        update_id = int(update["update_id"])
        started = loop.time()
        status: int | None = None
        error: str | None = None
        retry_after = 0
        if self._http is None:
            self._http = aiohttp.ClientSession()
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": self.secret_token} if self.secret_token else {}
        )
        try:
            async with self._http.post(
                self.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status <= 299:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
                    retry_after = _retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError as failure:
            error = (
                os.strerror(failure.os_error.errno)
                if failure.os_error.errno
                else "Connection refused"
            )
        except aiohttp.ClientError as failure:
            error = _describe(failure)
        finally:
            self._in_flight.pop(update_id, None)
        self.posts.append(Post(update_id, started, loop.time(), status, error))
        if error is None:
            self._last_success = loop.time()
            self._retry_at.pop(update_id, None)
            self._failures.pop(update_id, None)
            self._queue.forget(update_id)
        else:
            self._failed(update_id, error, retry_after, loop.time())
        self._wake.set()

    def _failed(self, update_id: int, error: str, retry_after: int, now: float) -> None:
        """Telegram's schedule: the first failure is retried at once (or after Retry-After),
        then each wait doubles, from 2 s up to ``max_delay``."""
        log.info("webhook: update %d not taken: %s", update_id, error)
        self.last_error_date = int(self._clock())
        self.last_error_message = error
        failures = self._failures.get(update_id, 0)
        self._failures[update_id] = failures + 1
        delay = float(retry_after)
        if retry_after == 0 and failures > 0:
            delay = min(self.max_delay, 2.0**failures)
        self._retry_at[update_id] = now + delay


def _retry_after(header: str | None) -> int:
    if header is None or not header.strip().isdigit():
        return 0
    return min(int(header.strip()), MAX_RETRY_AFTER)


def _describe(failure: aiohttp.ClientError) -> str:
    if isinstance(failure, aiohttp.ServerDisconnectedError):
        return "Webhook connection closed"
    if isinstance(failure, aiohttp.ClientOSError) and failure.strerror:
        return failure.strerror
    return type(failure).__name__
