"""Taking updates in, by long polling or by webhook, confirming each only when it is done.

An update is confirmed to Telegram (by the next ``getUpdates`` offset, or the webhook's 200)
once its transaction committed or it failed for its own content (the errors router logged it).
A batch's plain chatter commits first, together (the fast path, ``handlers/chatter.py``); the
rest goes through the dispatcher one update at a time.
Two kinds are treated otherwise:

* a **poison** update, one aiogram cannot parse (Telegram has been seen to send a
  ``hidden_user`` forward origin without ``sender_user_name``, aiogram issue #1840): counted,
  logged with its id and its type, never its content, and confirmed, so it cannot come back
  forever; the rest of its batch is handled;
* an update that failed for the **infrastructure** (:func:`bot.failures.is_infrastructure_error`):
  not confirmed. Polling asks for it again after a backoff (it and the updates after it: those
  that committed meanwhile are no-ops the second time, by their handled-update ids); the
  webhook answers 503, so Telegram posts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.config import Settings
from bot.failures import describe, is_infrastructure_error
from bot.health import Health, Metrics
from bot.updates import FastPath, UpdateFaults, chat_of, parse_update, update_id_of
from bot.webhook import serve_webhook

log = logging.getLogger(__name__)

#: the longest wait before asking again (real time: the network and the database are real)
BACKOFF_CAP = 30.0


class GetRawUpdates(TelegramMethod[list[Any]]):
    """``getUpdates`` answered as plain JSON objects, each parsed on its own by the poller: with
    aiogram's ``GetUpdates`` one update it cannot parse fails the whole batch
    (``ClientDecodeError``), and the offset can never move past it."""

    __returning__ = list[Any]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def backoff(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th failure in a row: 1, 2, 4 … up to 30."""
    return min(2.0 ** max(attempt - 1, 0), BACKOFF_CAP)


async def _no_fast_path(_updates: Sequence[Update]) -> frozenset[int]:
    return frozenset()


class Poller:
    """Long polling that confirms an update (the next offset) only once it is done. aiogram's
    own polling confirms updates it has merely started, so a crash would lose them; here a
    crash means they come again, and the handled-update ids make the second time a no-op."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        stop: asyncio.Event,
        *,
        timeout: int,
        allowed_updates: list[str],
        concurrency: int,
        faults: UpdateFaults,
        metrics: Metrics,
        fast_path: FastPath = _no_fast_path,
    ) -> None:
        self._bot = bot
        self._fast_path = fast_path
        self._metrics = metrics
        self._dispatcher = dispatcher
        self._stop = stop
        self._timeout = timeout
        self._allowed_updates = allowed_updates
        self._limit = asyncio.Semaphore(concurrency)
        self._faults = faults
        #: poison update ids not yet confirmed (a retried batch does not count them again)
        self._poison: set[int] = set()

    async def run(self) -> None:
        offset: int | None = None
        failures = 0  # in a row: getUpdates failed, or the infrastructure failed a batch
        while not self._stop.is_set():
            fetch = asyncio.ensure_future(
                self._bot(
                    GetRawUpdates(
                        offset=offset, timeout=self._timeout, allowed_updates=self._allowed_updates
                    ),
                    request_timeout=self._timeout + 15,
                )
            )
            stop = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            try:
                raw = fetch.result()
            except (
                TelegramConflictError,
                TelegramNetworkError,
                TelegramServerError,
                TelegramRetryAfter,
                ClientDecodeError,
            ) as error:  # decode: not even a list
                if isinstance(error, TelegramConflictError):
                    log.error("another instance is polling with this token; retrying")
                else:
                    log.warning("getUpdates failed: %s", type(error).__name__)
                failures += 1
                await self._sleep(backoff(failures))
                continue
            if not raw:
                failures = 0
                continue
            handled = await self._handle_batch(raw)
            if handled is None:
                failures += 1
                await self._sleep(backoff(failures))
                continue
            offset, complete = handled
            if complete:
                failures = 0
            else:  # the infrastructure failed: from the first update not done, again
                failures += 1
                await self._sleep(backoff(failures))
            self._poison = {i for i in self._poison if i >= offset}

    async def _handle_batch(self, raw: list[Any]) -> tuple[int, bool] | None:
        """Handles one batch; returns the next offset and whether all of it was done (``None``:
        ask for it again as it is). Chats side by side, each chat's updates in order (a
        question before its answer); once the infrastructure fails an update, no new one
        starts, and the offset stops at the first update not done."""
        updates: list[Update] = []
        for item in raw:
            update_id = update_id_of(item)
            if update_id in self._poison:
                continue
            update = parse_update(item, self._bot)
            if update is not None:
                updates.append(update)
            elif update_id is not None:
                self._poison.add(update_id)
                self._faults.unparsable += 1
        known = [i for i in map(update_id_of, raw) if i is not None]
        if not known:
            log.error("a getUpdates batch without update ids; asking again")
            return None
        if not updates:
            return max(known) + 1, True
        try:
            with self._metrics.timing_batch() as timing:
                fast = await self._fast_path(updates)
                timing(len(fast))
        except Exception as error:
            if not is_infrastructure_error(error):  # a bug: each update takes the single path
                log.exception("the fast path failed a batch of %d updates", len(updates))
                fast = frozenset()
            else:
                return self._infrastructure_failed(updates, error)
        done: set[int] = set(fast)
        updates = [u for u in updates if u.update_id not in fast]
        broken = asyncio.Event()

        async def handle_in_order(chat: Sequence[Update]) -> None:
            for update in chat:
                async with self._limit:
                    if broken.is_set():
                        return
                    if not await self._handle(update):
                        broken.set()
                        return
                done.add(update.update_id)

        by_chat: dict[int, list[Update]] = {}
        for update in updates:
            by_chat.setdefault(chat_of(update), []).append(update)
        await asyncio.gather(*(handle_in_order(chat) for chat in by_chat.values()))
        if not broken.is_set():
            return max(known) + 1, True
        return min(u.update_id for u in updates if u.update_id not in done), False

    def _infrastructure_failed(
        self, updates: Sequence[Update], error: Exception
    ) -> tuple[int, bool]:
        """The fast path's transaction failed for the infrastructure: the batch comes again
        (what of it had committed before is a no-op then)."""
        self._faults.infrastructure += 1
        log.warning(
            "a batch of %d updates: the infrastructure failed (%s); it comes again",
            len(updates),
            describe(error),
        )
        return min(u.update_id for u in updates), False

    async def _handle(self, update: Update) -> bool:
        """``False`` when the infrastructure failed it (it must come again)."""
        try:
            with self._metrics.timing_update():
                await self._dispatcher.feed_update(self._bot, update)
        except Exception as error:
            if is_infrastructure_error(error):
                self._faults.infrastructure += 1
                log.warning(
                    "update %d: the infrastructure failed (%s); it comes again",
                    update.update_id,
                    describe(error),
                )
                return False
            log.exception("update %d failed", update.update_id)  # the errors router's own
        return True

    async def _sleep(self, seconds: float) -> None:
        """Real time, cut short by stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


async def receive(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: Settings,
    stop: asyncio.Event,
    allowed_updates: list[str],
    faults: UpdateFaults,
    metrics: Metrics,
    health: Health,
    *,
    timeout: int,  # noqa: ASYNC109 (getUpdates' long-poll seconds, passed to Telegram)
    concurrency: int,
    fast_path: FastPath | None = None,
) -> None:
    """Updates by webhook when ``WEBHOOK_URL`` is set (until cancelled), else by long polling
    (until ``stop``)."""
    if settings.webhook_url:
        await serve_webhook(
            bot,
            dispatcher,
            settings,
            settings.webhook_url,
            allowed_updates,
            faults,
            metrics,
            health,
            fast_path,
        )
        return
    await bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses otherwise
    await Poller(
        bot,
        dispatcher,
        stop,
        timeout=timeout,
        allowed_updates=allowed_updates,
        concurrency=concurrency,
        faults=faults,
        metrics=metrics,
        fast_path=fast_path or _no_fast_path,
    ).run()
