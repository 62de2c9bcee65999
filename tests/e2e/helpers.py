"""Waiting for the bot to catch up with the sandbox (real time, bounded)."""

from __future__ import annotations

from bot.app import SopBot
from bot.idle import wait_idle
from sandbox import TelegramSandbox


async def settle(
    app: SopBot,
    sandbox: TelegramSandbox,
    timeout: float = 30.0,  # noqa: ASYNC109  SopBot.wait_idle's bound, whose error says what is busy
) -> None:
    """Until every queued update was fetched and handled and nothing is due in the outbox."""
    await wait_idle(app, sandbox.pending_updates, timeout=timeout)
