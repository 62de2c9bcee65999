"""Waiting for the bot to catch up with the sandbox (real time, bounded)."""

from __future__ import annotations

import asyncio

from bot.app import SopBot
from sandbox import TelegramSandbox


async def settle(app: SopBot, sandbox: TelegramSandbox, timeout: float = 10.0) -> None:
    """Until every queued update was fetched and handled and nothing is due in the outbox,
    three checks in a row (an update fetched but not yet dispatched is a few ms away)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 3:
        if loop.time() > deadline:
            raise AssertionError(f"bot still busy after {timeout}s: "
                                 f"{sandbox.pending_updates()} updates queued")
        idle = sandbox.pending_updates() == 0 and await app.is_idle()
        quiet = quiet + 1 if idle else 0
        await asyncio.sleep(0.02)
