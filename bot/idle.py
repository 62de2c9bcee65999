"""Whether a running bot has caught up: for the demo, the tests and the benchmarks (real time;
the production bot never asks)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.app import SopBot
from bot.errors import SopbotError


async def is_idle(app: SopBot) -> bool:
    """No update being handled, no loop ticking, woken or overdue, nothing due in the outbox."""
    if app.runtime is not None and app.runtime.updates_in_flight:
        return False
    now = app.clock.now()
    if any(ticker.busy(now) for ticker in app.tickers.values()):
        return False
    return await app.delivery.is_idle()


async def wait_idle(
    app: SopBot,
    pending_updates: Callable[[], int] = lambda: 0,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (real time, checked between polls)
) -> None:
    """Until no update is queued (``pending_updates`` asks the server), none is being
    handled and nothing is due in the outbox, three checks in a row (an update fetched but
    not yet dispatched is a few ms away)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 3:
        if loop.time() > deadline:
            raise SopbotError(
                f"bot still busy after {timeout}s "
                f"({pending_updates()} updates queued, {app.delivery.held} "
                "messages held)"
            )
        quiet = quiet + 1 if pending_updates() == 0 and await is_idle(app) else 0
        await asyncio.sleep(0.005 if quiet else 0.01)
