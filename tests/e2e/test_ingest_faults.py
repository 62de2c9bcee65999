"""The fast path when the database is away: the batch's bulk transaction fails for the
infrastructure, nothing of it is confirmed, and once the database is back the batch comes again
and is counted once."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import SopBot
from sandbox import TelegramSandbox
from tests.e2e.helpers import settle
from tests.e2e.test_ingest import MEMBERS, bulk, burst, ledger, warm_up
from tests.e2e.test_resilience import BUSY_TIMEOUT, BusyDatabase, busy_app

__all__ = ["busy_app"]  # the fixture, used by name


async def test_a_batch_of_chatter_the_database_could_not_take_comes_again(
    sandbox: TelegramSandbox, busy_app: SopBot, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = busy_app
    await warm_up(app, sandbox)
    async with BusyDatabase(database_url) as busy:
        burst(sandbox, 30)
        await busy.strike()
        await sandbox.wait_for(
            lambda: "a batch of 30 updates: the infrastructure failed" in caplog.text, timeout=15
        )
        await asyncio.sleep(BUSY_TIMEOUT)
        assert sandbox.unconfirmed_updates() == 30  # not confirmed while the database is away
    await sandbox.wait_for(lambda: sandbox.unconfirmed_updates() == 0, timeout=40)
    await settle(app, sandbox)
    after = await ledger(app)
    assert sum(after.activity.values()) == len(MEMBERS) + 30  # once each
    assert after.handled == len(MEMBERS) + 30
    assert bulk(app) == 30
    assert app.update_faults.infrastructure >= 1
