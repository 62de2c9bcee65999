"""Clocks: the only place sopbot learns what time it is.

Everything takes a :class:`Clock` and never reads ``datetime.now()`` itself, so the demo, the
tests and ``simulate`` can run days on a virtual clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC time."""

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when`` (at once when it already is)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A virtual clock that moves only when told to; sleepers wake as it passes their deadline."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> float:
        return self._now.timestamp()

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("a clock does not go backwards")
        self._now = when.astimezone(UTC)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.set(self._now + (delta if delta is not None else timedelta(**kwargs)))
        return self._now


async def sleep_or_wake(clock: Clock, until: datetime | None, wake: asyncio.Event) -> None:
    """Sleeps until ``until`` on ``clock`` (forever when None) or until ``wake`` is set."""
    if wake.is_set():
        return
    waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(wake.wait())]
    if until is not None:
        waiters.append(asyncio.ensure_future(clock.sleep_until(until)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
