"""What the delivery loop asks before each call: may it go now, and if not, when?

Two gates keep Telegram's limits (:class:`~bot.delivery.limiter.Limits`): :class:`LocalGate`,
the process's own :class:`~bot.delivery.limiter.RateLimiter` (one process, the default), and
:class:`~bot.delivery.shared_limits.RedisGate` (``REDIS_URL``: the limits of the bot as a
whole, shared by every process). Both count a call from the moment it is granted until its
answer came back (then it is stamped with the answer's time), keep one call in flight per chat
lane, and hold a chat back for exactly ``retry_after`` after a 429.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.db.models.outbox import ChatKind
from bot.delivery.limiter import Limits, RateLimiter

#: (chat id, chat kind) of a call the loop wants to make
Want = tuple[int, str]


class SendGate(Protocol):
    limits: Limits

    async def acquire(self, wants: Sequence[Want], now: datetime) -> list[datetime | None]:
        """For each call in turn: ``None`` when it was granted (it now counts as in flight,
        and :meth:`complete` or :meth:`release` must follow), else the earliest time to ask
        again."""

    async def next_allowed(self, wants: Sequence[Want], now: datetime) -> list[datetime]:
        """When each call could go, granting none (``now`` when it could go now)."""

    async def complete(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        """A granted call's answer came back at ``at`` (Telegram counted it, whatever it said)."""

    async def release(self, chat_id: int, chat_kind: str) -> None:
        """A granted call that was not made after all: it counts for nothing."""

    async def penalize(self, chat_id: int, until: datetime, *, everyone: bool = False) -> None:
        """Telegram said 429: nothing to that chat (``everyone``: to any chat) before
        ``until``."""

    async def sweep(self, now: datetime) -> None:
        """Forget what can no longer hold a call back."""

    async def close(self) -> None:
        """Stops what the gate runs by itself."""

    @property
    def paused(self) -> str | None:
        """Why nothing can be sent at all now (the limits cannot be known), else ``None``."""


class LocalGate:
    """The limits kept in this process: right for one process, wrong for several."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or RateLimiter()
        self.limits = self.limiter.limits
        self._pause_until: datetime | None = None

    async def acquire(self, wants: Sequence[Want], now: datetime) -> list[datetime | None]:
        answers: list[datetime | None] = []
        for chat_id, chat_kind in wants:
            at = self._next(chat_id, chat_kind, now)
            if at > now:
                answers.append(at)
                continue
            self.limiter.dispatch(chat_id, chat_kind)
            answers.append(None)
        return answers

    async def next_allowed(self, wants: Sequence[Want], now: datetime) -> list[datetime]:
        return [self._next(chat_id, chat_kind, now) for chat_id, chat_kind in wants]

    async def complete(self, chat_id: int, chat_kind: str, at: datetime) -> None:
        self.limiter.complete(chat_id, chat_kind, at)

    async def release(self, chat_id: int, chat_kind: str) -> None:
        self.limiter.cancel(chat_id, chat_kind)

    async def penalize(self, chat_id: int, until: datetime, *, everyone: bool = False) -> None:
        self.limiter.penalize(chat_id, until)
        if everyone and (self._pause_until is None or until > self._pause_until):
            self._pause_until = until

    async def sweep(self, now: datetime) -> None:
        self.limiter.forget_idle(now)
        if self._pause_until is not None and self._pause_until <= now:
            self._pause_until = None

    async def close(self) -> None:
        return None

    @property
    def paused(self) -> str | None:
        return None

    def _next(self, chat_id: int, chat_kind: str, now: datetime) -> datetime:
        at = self.limiter.next_allowed(chat_id, chat_kind, now)
        if self._pause_until is not None and self._pause_until > at:
            return self._pause_until
        return at


def penalizes_everyone(chat_kind: str) -> bool:
    """A 429 on a call that sends no message (a ban, a restriction) is the bot's requests a
    second running over, not one chat's: it holds every chat back."""
    return chat_kind == ChatKind.API
