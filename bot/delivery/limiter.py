"""Telegram's send limits, kept on our side so the server never has to say 429.

Pure bookkeeping: every method takes the time, nothing reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limits:
    """A little under Telegram's published limits, so jitter on the wire never tips us over."""

    global_per_second: int = 29
    private_interval: timedelta = timedelta(seconds=1.05)
    group_per_window: int = 20
    group_window: timedelta = timedelta(seconds=61)


class RateLimiter:
    """Sliding windows: global, per group; a minimum interval per private chat; 429 penalties.

    ``chat_kind`` is "private", "group" (groups, supergroups, channels) or "api" (a call that
    sends no message, bound only by the global limit).
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._global: deque[datetime] = deque()
        self._groups: dict[int, deque[datetime]] = {}
        self._private_last: dict[int, datetime] = {}
        self._penalty: dict[int, datetime] = {}

    def next_allowed(self, chat_id: int, chat_kind: str, now: datetime) -> datetime:
        """The earliest time a message to ``chat_id`` may go (``now`` when it may go now)."""
        at = max(now, self._next_global(now))
        penalty = self._penalty.get(chat_id)
        if penalty is not None:
            if penalty <= now:
                del self._penalty[chat_id]
            else:
                at = max(at, penalty)
        if chat_kind == "api":  # not a message (approve a join request…): global limit only
            return at
        if chat_kind == "private":
            last = self._private_last.get(chat_id)
            if last is not None:
                at = max(at, last + self.limits.private_interval)
        else:
            window = self._groups.get(chat_id)
            if window:
                self._trim(window, now - self.limits.group_window)
                if len(window) >= self.limits.group_per_window:
                    at = max(at, window[0] + self.limits.group_window)
        return at

    def record(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        """A message to ``chat_id`` went at ``at``."""
        self._global.append(at)
        if chat_kind == "api":
            return
        if chat_kind == "private":
            self._private_last[chat_id] = at
        else:
            self._groups.setdefault(chat_id, deque()).append(at)

    def penalize(self, chat_id: int, until: datetime) -> None:
        """Telegram said 429: nothing goes to that chat before ``until``."""
        self._penalty[chat_id] = max(until, self._penalty.get(chat_id, until))

    def forget_idle(self, now: datetime) -> None:
        """Drops bookkeeping for chats that cannot constrain anything any more."""
        horizon = now - max(self.limits.private_interval, self.limits.group_window)
        self._private_last = {c: t for c, t in self._private_last.items() if t > horizon}
        for chat_id in [c for c, w in self._groups.items() if not w or w[-1] <= horizon]:
            del self._groups[chat_id]

    def _next_global(self, now: datetime) -> datetime:
        self._trim(self._global, now - timedelta(seconds=1))
        if len(self._global) >= self.limits.global_per_second:
            return self._global[0] + timedelta(seconds=1)
        return now

    @staticmethod
    def _trim(window: deque[datetime], older_than: datetime) -> None:
        while window and window[0] <= older_than:
            window.popleft()
