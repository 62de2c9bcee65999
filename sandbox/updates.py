"""The queue ``getUpdates`` reads: update ids, offsets, ``allowed_updates`` and long polling.

Like Telegram: confirming an ``offset`` discards every earlier update; a non-empty
``allowed_updates`` becomes the remembered filter, an empty list restores the default (every
type except ``chat_member``, ``message_reaction`` and ``message_reaction_count``), an omitted
one keeps the last filter. Updates the filter excludes are dropped (Telegram never creates
them). A second ``getUpdates`` while one is waiting ends the first with ``409 Conflict``.
Long polling waits in real time and wakes as soon as an update is queued.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

log = logging.getLogger(__name__)

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Queued:
    update: dict[str, Any]
    kind: str
    delivered: bool = False


class UpdateQueue:
    """Updates waiting for the bot, in ``update_id`` order."""

    def __init__(self) -> None:
        self._items: list[_Queued] = []
        self._next_id = 1
        self._filter: frozenset[str] | None = None
        self.last_allowed_updates: list[str] | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._generation = 0
        self._closed = False
        #: called after each push (the webhook pusher's wake-up)
        self.listeners: list[Callable[[], None]] = []

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue ``{"update_id": N, kind: payload}`` and wake a long poll; return the update.

        The payload is copied: a later change to the world (an edit of that message) must not
        rewrite an update already queued.
        """
        update = {"update_id": self._next_id, kind: copy.deepcopy(payload)}
        self._next_id += 1
        self._items.append(_Queued(update, kind))
        self._wake()
        for listener in self.listeners:
            listener()
        return update

    def pending(self) -> int:
        """Updates queued but not yet delivered by ``getUpdates``."""
        return sum(1 for item in self._items if not item.delivered)

    def unconfirmed(self) -> int:
        """Updates queued (delivered or not) that no ``offset`` has confirmed yet."""
        return len(self._items)

    def waiting(self) -> list[dict[str, Any]]:
        """The updates not yet confirmed that the filter lets through, in order (what the
        webhook pusher posts; the others are dropped, as Telegram never creates them)."""
        return [item.update for item in self._collect(len(self._items))]

    def forget(self, update_id: int) -> None:
        """Drop one update: the webhook answered it with a 2xx."""
        self._items = [item for item in self._items if item.update["update_id"] != update_id]

    def set_filter(self, allowed_updates: list[str] | None) -> None:
        """``allowed_updates`` of ``setWebhook`` (``None``: keep the last filter)."""
        if allowed_updates is not None:
            self.last_allowed_updates = list(allowed_updates)
            self._filter = frozenset(allowed_updates) if allowed_updates else None

    def clear(self) -> None:
        """Drop every queued update (``deleteWebhook(drop_pending_updates=True)``)."""
        self._items.clear()

    def close(self) -> None:
        """Make every waiting long poll return now (server shutdown)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _wanted(self, kind: str) -> bool:
        if self._filter is None:
            return kind not in DEFAULT_EXCLUDED
        return kind in self._filter

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._items = [item for item in self._items if item.update["update_id"] >= offset]
        elif offset < 0:
            self._items = self._items[offset:]

    def _collect(self, limit: int) -> list[_Queued]:
        self._items = [item for item in self._items if self._wanted(item.kind)]
        return self._items[:limit]

    async def get(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        timeout: float = 0,  # noqa: ASYNC109  getUpdates' own long-poll parameter
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Answer one ``getUpdates`` call."""
        self.set_filter(allowed_updates)
        self._confirm(offset)
        limit = min(max(limit, 1), 100)
        self._generation += 1
        generation = self._generation
        self._wake()  # ends an older long poll with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        while True:
            if generation != self._generation:
                log.info("getUpdates ended by a newer getUpdates (409 Conflict)")
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._collect(limit)
            remaining = deadline - loop.time()
            if batch or self._closed or remaining <= 0:
                for item in batch:
                    item.delivered = True
                return [item.update for item in batch]
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                self._waiters.discard(waiter)
                waiter.cancel()
