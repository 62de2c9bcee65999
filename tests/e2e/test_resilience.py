"""Updates that cannot be parsed, and a database that is busy or gone: nothing stops the bot,
nothing is lost.

A poison update (one aiogram cannot parse, like the ``hidden_user`` forward without
``sender_user_name`` Telegram has been seen to send) is counted, logged by id and type, and
confirmed, while the rest of its batch is handled. An update whose transaction fails for the
database's reasons (locked beyond the busy timeout, its connection killed) is not confirmed: it
comes again and is handled once the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiosqlite
import asyncpg
import pytest
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import Member
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import settings_for
from tests.e2e.helpers import WEBHOOK_SECRET, settle, webhook_settings

#: SQLite's busy timeout in these tests (the default 30 s would make them slow)
BUSY_TIMEOUT = 0.3
HIDDEN = "Secret Text 9f3a"


def _hidden_user_forward(update_id: int, chat_id: int) -> dict[str, Any]:
    """A forward whose origin lacks ``sender_user_name`` (aiogram issue #1840)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 7,
            "date": 1_700_000_000,
            "text": HIDDEN,
            "chat": {"id": chat_id, "type": "private", "first_name": "Fwd"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Fwd"},
            "forward_origin": {"type": "hidden_user", "date": 1_699_999_000},
        },
    }


def _start(update_id: int, user_id: int, date: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": date,
            "text": "/start",
            "chat": {"id": user_id, "type": "private", "first_name": "Web"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Web", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def members(app: SopBot, user_id: int) -> int:
    async with app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Member).where(Member.user_id == user_id)
            )
            or 0
        )


def _with_busy_timeout(database_url: str) -> str:
    return (
        f"{database_url}?timeout={BUSY_TIMEOUT}"
        if database_url.startswith("sqlite")
        else database_url
    )


class BusyDatabase:
    """Another client holds the database, as a second process, a backup or a migration would.

    SQLite: a write lock (``BEGIN IMMEDIATE``) held longer than the bot's busy timeout, so the
    bot's writes fail with "database is locked". PostgreSQL: ``processed_updates`` locked, and
    the bot's connection that waits on the lock terminated (a restart or a failover as the bot
    sees it). ``strike()`` waits until the bot has been hit; leaving releases the database.
    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._sqlite: aiosqlite.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def __aenter__(self) -> BusyDatabase:
        if self._url.startswith("sqlite"):
            path = self._url.split(":///", 1)[1].split("?", 1)[0]
            self._sqlite = await aiosqlite.connect(path, isolation_level=None)
            await self._sqlite.execute("BEGIN IMMEDIATE")
        else:
            self._pg = await asyncpg.connect(self._url.replace("postgresql+asyncpg", "postgresql"))
            await self._pg.execute("BEGIN")
            await self._pg.execute("LOCK TABLE processed_updates IN ACCESS EXCLUSIVE MODE")
        return self

    #: real seconds ``strike()`` waits for an update to block on the lock
    STRIKE_WITHIN = 15.0

    async def strike(self) -> None:
        """PostgreSQL: terminates the bot's connections whose update waits on the lock (its
        claim of the update id, the first statement of an update's transaction)."""
        if self._pg is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.STRIKE_WITHIN
        while True:
            # pg_stat_activity is a snapshot per transaction, and this one holds the lock
            await self._pg.execute("SELECT pg_stat_clear_snapshot()")
            killed = await self._pg.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO processed_updates%'"
            )
            if killed:
                return
            assert loop.time() < deadline, "no update waited on the lock"
            await asyncio.sleep(0.02)

    async def __aexit__(self, *_: object) -> None:
        if self._sqlite is not None:
            await self._sqlite.execute("ROLLBACK")
            await self._sqlite.close()
        if self._pg is not None:
            await self._pg.execute("ROLLBACK")
            await self._pg.close()


@pytest.fixture
async def busy_app(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[SopBot]:
    bot = SopBot(
        settings_for(sandbox.url, _with_busy_timeout(database_url)),
        config,
        clock=clock,
        polling_timeout=1,
    )
    await bot.start()
    yield bot
    await bot.stop()


# -- poison updates -------------------------------------------------------------------------------


async def test_an_update_aiogram_cannot_parse_is_skipped_and_its_batch_handled(
    sandbox: TelegramSandbox, app: SopBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: getUpdates raised ClientDecodeError, the polling task died, and every restart
    fetched the same update again (the offset never moved) for as long as Telegram kept it."""
    caplog.set_level(logging.INFO)
    await settle(app, sandbox)
    sandbox.add_user(31_001, "Fwd", language_code="zh")
    sandbox.add_user(31_002, "After", language_code="zh")
    poison = sandbox.user_forwards(31_001, {"type": "hidden_user", "date": 1_699_999_000}, HIDDEN)
    sandbox.user_sends(31_002, "/start")  # the same batch
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(31_002)) == 1, timeout=15)
    await sandbox.wait_for(lambda: sandbox.unconfirmed_updates() == 0, timeout=5)
    assert app.update_faults.unparsable == 1
    logged = [
        r
        for r in caplog.records
        if r.name.startswith("bot") and f"update {poison['update_id']} " in r.getMessage()
    ]
    assert len(logged) == 1 and "message" in logged[0].getMessage()
    assert all(HIDDEN not in r.getMessage() for r in caplog.records)
    assert sandbox.sent_messages(31_001) == []  # nothing answered, nothing leaked
    sandbox.user_sends(31_001, "/start")  # the forwarder is not stuck either
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(31_001)) == 1, timeout=15)


async def test_a_webhook_post_that_cannot_parse_is_answered_200_and_counted(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before: 500, so Telegram posted the same update again and again."""
    caplog.set_level(logging.INFO)
    settings, url = webhook_settings(sandbox.url, database_url)
    app = SopBot(settings, config, clock=clock)
    await app.start()
    try:
        await sandbox.wait_for(lambda: any(c.method == "setWebhook" for c in sandbox.calls))
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with aiohttp.ClientSession() as http:
            poison = _hidden_user_forward(700_001, 3201)
            async with http.post(url, json=poison) as forged:  # no secret: still refused
                assert forged.status == 401
            async with http.post(url, json=poison, headers=headers) as response:
                assert response.status == 200
            async with http.post(url, data=b"{not json", headers=headers) as response:
                assert response.status == 200
            assert app.update_faults.unparsable == 2
            sandbox.add_user(3202, "Web", language_code="en")
            sandbox.user_sends(3202, "hi")  # opens the private chat
            start = _start(700_002, 3202, int(clock.now().timestamp()))
            async with http.post(url, json=start, headers=headers) as response:
                assert response.status == 200
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(3202)) == 1)
        assert any(
            r.name.startswith("bot") and "update 700001 (message)" in r.getMessage()
            for r in caplog.records
        )
        assert all(HIDDEN not in r.getMessage() for r in caplog.records)
    finally:
        await app.stop()


# -- a busy or lost database ----------------------------------------------------------------------


async def test_start_while_the_database_is_busy_is_handled_once_it_is_back(
    sandbox: TelegramSandbox, busy_app: SopBot, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the errors router swallowed the OperationalError and the offset moved on, so
    the /start was lost for good (no member row, no gift)."""
    caplog.set_level(logging.INFO)
    app = busy_app
    await settle(app, sandbox)
    sandbox.add_user(32_001, "Busy", language_code="zh")
    sandbox.add_user(32_002, "Also", language_code="zh")
    async with BusyDatabase(database_url) as busy:
        first = sandbox.user_sends(32_001, "/start")
        sandbox.user_sends(32_002, "/start")  # the same batch, another chat
        await busy.strike()
        await sandbox.wait_for(
            lambda: any(  # the bot tried and failed
                r.levelno >= logging.WARNING and f"update {first['update_id']}" in r.getMessage()
                for r in caplog.records
            ),
            timeout=15,
        )
        await asyncio.sleep(BUSY_TIMEOUT)  # what it does next: not confirm them
        assert sandbox.unconfirmed_updates() == 2  # not confirmed while the database is away
    await sandbox.wait_for(
        lambda: len(sandbox.sent_messages(32_001)) == 1 and len(sandbox.sent_messages(32_002)) == 1,
        timeout=40,
    )
    await settle(app, sandbox)
    assert await members(app, 32_001) == 1 and await members(app, 32_002) == 1
    assert len(sandbox.sent_messages(32_001)) == 1 and len(sandbox.sent_messages(32_002)) == 1
    assert sandbox.unconfirmed_updates() == 0
    assert app.update_faults.infrastructure >= 1


async def test_a_webhook_update_the_database_could_not_take_is_answered_503(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    """Before: 200 (the errors router swallowed the error), so Telegram never sent it again."""
    settings, url = webhook_settings(sandbox.url, _with_busy_timeout(database_url))
    app = SopBot(settings, config, clock=clock)
    await app.start()
    try:
        await sandbox.wait_for(lambda: any(c.method == "setWebhook" for c in sandbox.calls))
        sandbox.add_user(3301, "Web", language_code="en")
        sandbox.user_sends(3301, "hi")  # opens the private chat (pushed to the webhook)
        await sandbox.wait_for(lambda: sandbox.unconfirmed_updates() == 0)
        start = _start(800_001, 3301, int(clock.now().timestamp()))
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with aiohttp.ClientSession() as http:
            async with BusyDatabase(database_url) as busy:
                post = asyncio.ensure_future(http.post(url, json=start, headers=headers))
                await busy.strike()
                async with await post as response:
                    assert response.status == 503
            assert app.update_faults.infrastructure == 1
            async with http.post(url, json=start, headers=headers) as response:  # redelivery
                assert response.status == 200
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(3301)) == 1)
        assert await members(app, 3301) == 1
    finally:
        with contextlib.suppress(Exception):
            await app.stop()
