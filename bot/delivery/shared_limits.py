"""Telegram's limits for the bot as a whole, kept in Redis (``REDIS_URL``) and shared by every
process: 30 calls a second in all, a private chat's one a second, a group's 20 a minute, a
429's ``retry_after``, and one call in flight per chat lane.

The same bookkeeping as the in-process :class:`~bot.delivery.limiter.RateLimiter` — a call
counts as "now" from its grant until its answer, then as the answer's time — done by Lua
scripts (``bot/delivery/shared_lua.py``) so that two processes asking at once never both take
the last slot. A call in flight holds a lease (:data:`LEASE`), renewed while it runs: a killed
process's calls stop counting, and its chats are free again, once their leases end.

When Redis cannot be asked, nothing is granted (the limits are never guessed): sending pauses,
:attr:`RedisGate.paused` says why (``/healthz``), and once Redis answers again ``on_resume``
is called (the team is told). What Redis forgets (a flush, a restart) costs at most a 429: the
outbox in the database says what was sent, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.db.models.outbox import ChatKind
from bot.delivery.gate import Want
from bot.delivery.limiter import Limits
from bot.delivery.shared_lua import ACQUIRE, COMPLETE, PENALIZE, RENEW
from sop.clock import Clock

log = logging.getLogger(__name__)

#: how long a call in flight counts (renewed every third of it while it runs)
LEASE = timedelta(seconds=10)
#: while Redis cannot be asked, the loop asks again this often
DOWN_RETRY = timedelta(seconds=1)
#: how long one question to Redis may take before it counts as down
REDIS_TIMEOUT = 2.0

ResumeHook = Callable[[datetime, datetime], Coroutine[Any, Any, None]]


def key_prefix(bot_token: str) -> str:
    """The keys of one bot (its id, the token's part before ``:``): bots sharing a Redis
    server keep their own limits, as Telegram does. The limits are under ``<prefix>lim:``."""
    return f"sopbot:{bot_token.partition(':')[0]}:"


def connect(url: str) -> Redis:
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        health_check_interval=30,
    )


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class RedisGate:
    """The bot's limits in Redis (see the module's docstring)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        clock: Clock,
        limits: Limits | None = None,
        *,
        on_resume: ResumeHook | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.limits = limits or Limits()
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._lease = lease
        self._on_resume = on_resume
        self._acquire = redis.register_script(ACQUIRE)
        self._complete = redis.register_script(COMPLETE)
        self._penalize = redis.register_script(PENALIZE)
        self._renew = redis.register_script(RENEW)
        self._base = uuid.uuid4().hex[:12]
        self._calls = itertools.count()
        #: the token of this process's call in flight, per chat lane
        self._tokens: dict[tuple[int, bool], tuple[str, str]] = {}
        self._renewing: asyncio.Task[None] | None = None
        #: since when Redis could not be asked (``None``: it answers)
        self.down_since: datetime | None = None
        self._resumed: set[asyncio.Task[None]] = set()

    @property
    def paused(self) -> str | None:
        if self.down_since is None:
            return None
        return f"Redis unreachable since {self.down_since.isoformat(timespec='seconds')}"

    async def acquire(self, wants: Sequence[Want], now: datetime) -> list[datetime | None]:
        base = f"{self._base}:{next(self._calls)}"
        answers = await self._ask(wants, now, base, dry=False)
        if answers is None:
            return [now + DOWN_RETRY for _ in wants]
        granted: list[datetime | None] = []
        for index, ((chat_id, chat_kind), answer) in enumerate(zip(wants, answers, strict=True)):
            if answer == 0:
                token = f"{base}:{10 + 2 * index}"  # as the script names it
                self._tokens[(chat_id, chat_kind == ChatKind.API)] = (token, str(chat_kind))
                granted.append(None)
            else:
                granted.append(max(_at(answer), now + timedelta(milliseconds=1)))
        if self._tokens and (self._renewing is None or self._renewing.done()):
            self._renewing = asyncio.create_task(self._keep_leases(), name="limits lease")
        return granted

    async def next_allowed(self, wants: Sequence[Want], now: datetime) -> list[datetime]:
        answers = await self._ask(wants, now, "peek", dry=True)
        if answers is None:
            return [now + DOWN_RETRY for _ in wants]
        return [now if answer == 0 else max(now, _at(answer)) for answer in answers]

    async def complete(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        await self._finish(chat_id, chat_kind, at, counted=True)

    async def release(self, chat_id: int, chat_kind: str) -> None:
        await self._finish(chat_id, chat_kind, self._clock.now(), counted=False)

    async def penalize(self, chat_id: int, until: datetime, *, everyone: bool = False) -> None:
        now = self._clock.now()
        keys = [f"{self._prefix}pen:{chat_id}"]
        if everyone:
            keys.append(f"{self._prefix}pause")
        try:
            for key in keys:
                await self._penalize(args=[key, _ms(until), _ms(now)])
        except (RedisError, OSError) as error:  # the row itself waits (its due time)
            self._down(now, error)

    async def sweep(self, now: datetime) -> None:
        """Nothing to forget: every key expires by itself."""

    async def close(self) -> None:
        tasks = [t for t in (self._renewing, *self._resumed) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._renewing = None
        self._resumed.clear()

    # -- internals ----------------------------------------------------------------------------
    async def _ask(
        self, wants: Sequence[Want], now: datetime, base: str, *, dry: bool
    ) -> list[int] | None:
        limits = self.limits
        args: list[Any] = [
            self._prefix,
            _ms(now),
            int(self._lease.total_seconds() * 1000),
            base,
            limits.global_per_second,
            int(limits.private_interval.total_seconds() * 1000),
            limits.group_per_window,
            int(limits.group_window.total_seconds() * 1000),
            "1" if dry else "0",
        ]
        for chat_id, chat_kind in wants:
            args += [chat_id, str(chat_kind)]
        try:
            answers = await self._acquire(args=args)
        except (RedisError, OSError) as error:
            self._down(now, error)
            return None
        self._up(now)
        return [int(answer) for answer in answers]

    async def _finish(self, chat_id: int, chat_kind: str, at: datetime, *, counted: bool) -> None:
        held = self._tokens.pop((chat_id, chat_kind == ChatKind.API), None)
        if held is None:
            return
        token = held[0]
        limits = self.limits
        try:
            await self._complete(
                args=[
                    self._prefix,
                    _ms(at),
                    token,
                    chat_id,
                    str(chat_kind),
                    int(limits.private_interval.total_seconds() * 1000),
                    int(limits.group_window.total_seconds() * 1000),
                    "1" if counted else "0",
                ]
            )
        except (RedisError, OSError) as error:  # its lease ends by itself
            self._down(at, error)

    async def _keep_leases(self) -> None:
        """While this process has calls in flight, their leases are renewed."""
        interval = self._lease.total_seconds() / 3
        while self._tokens:
            await asyncio.sleep(interval)  # real time: a lease is real time to other processes
            args: list[Any] = [
                self._prefix,
                _ms(self._clock.now()),
                int(self._lease.total_seconds() * 1000),
            ]
            for (chat_id, _api), (token, chat_kind) in list(self._tokens.items()):
                args += [token, chat_id, chat_kind]
            try:
                await self._renew(args=args)
            except (RedisError, OSError) as error:
                log.warning("limits: could not renew leases: %s", type(error).__name__)

    def _down(self, now: datetime, error: BaseException) -> None:
        if self.down_since is None:
            self.down_since = now
            log.error(
                "limits: Redis unreachable (%s): sending paused until it answers",
                type(error).__name__,
            )

    def _up(self, now: datetime) -> None:
        if self.down_since is None:
            return
        since, self.down_since = self.down_since, None
        log.warning("limits: Redis answers again: sending resumes (paused since %s)", since)
        if self._on_resume is not None:
            task = asyncio.create_task(self._on_resume(since, now), name="limits resumed")
            self._resumed.add(task)
            task.add_done_callback(self._resumed.discard)
