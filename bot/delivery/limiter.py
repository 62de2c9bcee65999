"""Telegram's send limits, kept on our side so the server never has to say 429.

Pure bookkeeping: every method takes the time, nothing reads a clock.

Telegram counts a message when it arrives, which is somewhere between the moment we dispatch
the call and the moment its answer comes back. So a call in flight counts as "now" in every
window, and a finished call is stamped with the time its answer arrived: the server's stamp is
never later than ours, so our windows never hold fewer messages than Telegram's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db.models.outbox import ChatKind


@dataclass(frozen=True)
class Limits:
    """A little under Telegram's published limits."""

    global_per_second: int = 29
    private_interval: timedelta = timedelta(seconds=1.05)
    group_per_window: int = 20
    group_window: timedelta = timedelta(seconds=61)


class RateLimiter:
    """Sliding windows: global, per group; a minimum interval per private chat; 429 penalties.

    ``chat_kind`` is a :class:`~bot.db.models.outbox.ChatKind`: private, group (groups,
    supergroups, channels) or api (a call that sends no message, bound only by the global
    limit). Each :meth:`dispatch` must be followed
    by one :meth:`complete` for the same chat.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._global: deque[datetime] = deque()  # answers received in the last second
        self._in_flight = 0
        self._groups: dict[int, deque[datetime]] = {}
        self._group_in_flight: dict[int, int] = {}
        self._private_last: dict[int, datetime] = {}
        self._private_in_flight: set[int] = set()
        self._penalty: dict[int, datetime] = {}

    def next_allowed(self, chat_id: int, chat_kind: str, now: datetime) -> datetime:
        """The earliest time a message to ``chat_id`` may go (``now`` when it may go now; a
        time in the far future when it must wait for a call in flight to finish)."""
        at = max(now, self._next_global(now))
        penalty = self._penalty.get(chat_id)
        if penalty is not None:
            if penalty <= now:
                del self._penalty[chat_id]
            else:
                at = max(at, penalty)
        if chat_kind == ChatKind.API:
            return at
        if chat_kind == ChatKind.PRIVATE:
            if chat_id in self._private_in_flight:
                return max(at, now + self.limits.private_interval)
            last = self._private_last.get(chat_id)
            if last is not None:
                at = max(at, last + self.limits.private_interval)
            return at
        window = self._groups.get(chat_id)
        in_flight = self._group_in_flight.get(chat_id, 0)
        if window:
            self._trim(window, now - self.limits.group_window)
        count = len(window or ()) + in_flight
        if count >= self.limits.group_per_window:
            if window and len(window) > count - self.limits.group_per_window:
                at = max(
                    at, window[count - self.limits.group_per_window] + self.limits.group_window
                )
            else:
                at = max(at, now + self.limits.group_window)
        return at

    def dispatch(self, chat_id: int, chat_kind: str) -> None:
        """A call to ``chat_id`` is on its way."""
        self._in_flight += 1
        if chat_kind == ChatKind.PRIVATE:
            self._private_in_flight.add(chat_id)
        elif chat_kind != ChatKind.API:
            self._group_in_flight[chat_id] = self._group_in_flight.get(chat_id, 0) + 1

    def complete(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        """Its answer came back at ``at`` (whatever the answer: Telegram counted it)."""
        self._in_flight = max(0, self._in_flight - 1)
        _insert_sorted(self._global, at)
        if chat_kind == ChatKind.API:
            return
        if chat_kind == ChatKind.PRIVATE:
            self._private_in_flight.discard(chat_id)
            self._private_last[chat_id] = at
            return
        left = self._group_in_flight.get(chat_id, 1) - 1
        if left > 0:
            self._group_in_flight[chat_id] = left
        else:
            self._group_in_flight.pop(chat_id, None)
        _insert_sorted(self._groups.setdefault(chat_id, deque()), at)

    def cancel(self, chat_id: int, chat_kind: str) -> None:
        """A call :meth:`dispatch` counted was not made after all: it counts for nothing."""
        self._in_flight = max(0, self._in_flight - 1)
        if chat_kind == ChatKind.PRIVATE:
            self._private_in_flight.discard(chat_id)
        elif chat_kind != ChatKind.API:
            left = self._group_in_flight.get(chat_id, 1) - 1
            if left > 0:
                self._group_in_flight[chat_id] = left
            else:
                self._group_in_flight.pop(chat_id, None)

    def record(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        """A call dispatched and answered at the same instant (tests, virtual clocks)."""
        self.dispatch(chat_id, chat_kind)
        self.complete(chat_id, chat_kind, at)

    def penalize(self, chat_id: int, until: datetime) -> None:
        """Telegram said 429: nothing goes to that chat before ``until``."""
        self._penalty[chat_id] = max(until, self._penalty.get(chat_id, until))

    def forget_idle(self, now: datetime) -> None:
        """Drops bookkeeping for chats that cannot constrain anything any more."""
        self._penalty = {c: t for c, t in self._penalty.items() if t > now}
        horizon = now - max(self.limits.private_interval, self.limits.group_window)
        self._private_last = {c: t for c, t in self._private_last.items() if t > horizon}
        for chat_id in [
            c
            for c, w in self._groups.items()
            if (not w or w[-1] <= horizon) and c not in self._group_in_flight
        ]:
            del self._groups[chat_id]

    def _next_global(self, now: datetime) -> datetime:
        self._trim(self._global, now - timedelta(seconds=1))
        count = len(self._global) + self._in_flight
        if count < self.limits.global_per_second:
            return now
        excess = count - self.limits.global_per_second  # answers that must age out first
        if excess < len(self._global):
            return self._global[excess] + timedelta(seconds=1)
        return now + timedelta(seconds=1)  # all in flight: a completion will wake the loop

    @staticmethod
    def _trim(window: deque[datetime], older_than: datetime) -> None:
        while window and window[0] <= older_than:
            window.popleft()


def _insert_sorted(window: deque[datetime], at: datetime) -> None:
    """Answers mostly arrive in order; keep the window sorted when one overtakes another."""
    if not window or window[-1] <= at:
        window.append(at)
        return
    index = len(window)
    while index > 0 and window[index - 1] > at:
        index -= 1
    window.insert(index, at)
