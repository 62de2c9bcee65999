"""Telegram's flood limits, as sliding windows on the sandbox clock.

* a private chat: ``private_window * private_per_second`` messages in any ``private_window``
  seconds ("about one per second", with small bursts);
* a group, supergroup or channel: ``group_per_minute`` messages in any 60 seconds;
* the whole bot: ``global_per_second`` messages in any second.

``editMessageText`` counts against its chat's window but not against the global one (edits do
not fan out to many chats); the sending methods count against both. A refused request takes no
slot. Exceeding a limit answers ``429`` with ``retry_after`` = whole seconds until a slot frees
(at least 1) and puts the chat in a penalty until then; any counted request to that chat before
the penalty ends is another 429 (``retry_after`` = what remains) and an *early retry*.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from .errors import too_many_requests

_EPSILON = 1e-9


@dataclass
class Limits:
    """Configurable flood limits (defaults are Telegram's documented ones)."""

    private_per_second: float = 1.0
    private_window: float = 3.0
    group_per_minute: int = 20
    group_window: float = 60.0
    global_per_second: int = 30
    global_window: float = 1.0

    @property
    def private_capacity(self) -> int:
        """Messages allowed in any private window."""
        return max(1, int(self.private_window * self.private_per_second + _EPSILON))


def _whole_seconds(wait: float) -> int:
    return max(1, math.ceil(wait - _EPSILON))


class _Window:
    """Timestamps of the requests accepted in the last ``length`` seconds."""

    def __init__(self, length: float, capacity: int) -> None:
        self.length = length
        self.capacity = capacity
        self._stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until a slot is free (0 when one is free now)."""
        while self._stamps and self._stamps[0] <= now - self.length:
            self._stamps.popleft()
        if len(self._stamps) < self.capacity:
            return 0.0
        return self._stamps[len(self._stamps) - self.capacity] + self.length - now

    def take(self, now: float) -> None:
        self._stamps.append(now)


class RateLimiter:
    """Decides whether a counted request may go now; remembers penalties and early retries."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.early_retries = 0
        self._chats: dict[int, _Window] = {}
        self._global = _Window(limits.global_window, limits.global_per_second)
        self._penalty_until: dict[int, float] = {}

    def _window(self, chat_id: int, chat_type: str) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_type == "private":
                window = _Window(self.limits.private_window, self.limits.private_capacity)
            else:
                window = _Window(self.limits.group_window, self.limits.group_per_minute)
            self._chats[chat_id] = window
        return window

    def check(self, chat_id: int, chat_type: str, now: float, *, is_global: bool = True) -> None:
        """Raise a 429 :class:`ApiError` when the request must wait; otherwise do nothing.

        Call :meth:`take` once the request has succeeded.
        """
        until = self._penalty_until.get(chat_id)
        if until is not None and now < until - _EPSILON:
            self.early_retries += 1
            raise too_many_requests(_whole_seconds(until - now))
        wait = self._window(chat_id, chat_type).wait(now)
        if is_global:
            wait = max(wait, self._global.wait(now))
        if wait > 0:
            retry_after = _whole_seconds(wait)
            self._penalty_until[chat_id] = now + retry_after
            raise too_many_requests(retry_after)

    def check_global(self, now: float) -> None:
        """A call that sends no message but counts against the bot's requests a second
        (``restrictChatMember``, ``banChatMember``, ``unbanChatMember``): a 429 when the second
        is full; no chat is put in a penalty. Call :meth:`take_global` once it succeeded."""
        wait = self._global.wait(now)
        if wait > 0:
            raise too_many_requests(_whole_seconds(wait))

    def take_global(self, now: float) -> None:
        self._global.take(now)

    def take(self, chat_id: int, chat_type: str, now: float, *, is_global: bool = True) -> None:
        """Count an accepted request."""
        self._window(chat_id, chat_type).take(now)
        if is_global:
            self._global.take(now)
