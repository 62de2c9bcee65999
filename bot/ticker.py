"""A loop that runs one tick now and then: when the tick says, when woken, or at the latest
after ``poll``; on whatever clock it is given (the demo and tests use a virtual one)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sop.clock import Clock, sleep_or_wake

log = logging.getLogger(__name__)


class Ticker:
    def __init__(
        self,
        name: str,
        tick: Callable[[], Awaitable[datetime | None]],
        clock: Clock,
        *,
        poll: timedelta,
        linger: float = 0.0,
    ) -> None:
        self.name = name
        self._linger = linger
        self._tick = tick
        self._clock = clock
        self._poll = poll
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False
        self._next: datetime | None = None
        self._reschedule_only = False

    def wake(self) -> None:
        """Tick now."""
        self._reschedule_only = False
        self._wake.set()

    def wake_by(self, at: datetime) -> None:
        """Make sure the next tick comes no later than ``at`` (without ticking now)."""
        if self._next is not None and at >= self._next:
            return
        self._next = at
        if not self._wake.is_set():
            self._reschedule_only = True
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def busy(self, now: datetime) -> bool:
        """Ticking, woken, or overdue (the clock passed its time and it has not run yet)."""
        return (
            self._running or self._wake.is_set() or (self._next is not None and self._next <= now)
        )

    async def run(self) -> None:
        woken = False
        while not self._stopping:
            if woken and self._linger:
                # woken by an event (a join): the ones right behind it come in the same tick
                # (busy meanwhile: the wake stays set)
                await asyncio.sleep(self._linger)
            self._wake.clear()
            self._running = True
            try:
                wanted = await self._tick()
            except Exception:  # the next tick tries again; the error is in the log
                log.exception("%s tick failed", self.name)
                wanted = None
            finally:
                self._running = False
            if self._stopping:
                return
            fallback = self._clock.now() + self._poll
            self._next = min(wanted, fallback) if wanted is not None else fallback
            while True:
                await sleep_or_wake(self._clock, self._next, self._wake)
                if (
                    not (self._wake.is_set() and self._reschedule_only)
                    or self._stopping
                    or self._next <= self._clock.now()
                ):
                    break
                self._wake.clear()  # only an earlier time to wake at: sleep again
                self._reschedule_only = False
            woken = self._wake.is_set() and not self._reschedule_only
