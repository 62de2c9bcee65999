"""Two bots on one database and one Redis send as one bot (contract, "Several instances"):
30 a second in all, not per process, no 429; Redis flushed sends nothing twice (PostgreSQL:
several processes need it); Redis down pauses sending and the team hears when it resumes
(both databases)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import ChatKind
from bot.db.repositories import OutboxRepository
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import TEAM_CHAT
from tests.e2e.helpers import settle, webhook_settings
from tests.redis_server import SHARED_REDIS_URL, RedisServer, unique_prefix


async def _start(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    redis_url: str,
    prefix: str,
) -> SopBot:
    """A bot in webhook mode (two cannot both poll) with the shared limits."""
    settings, _url = webhook_settings(sandbox.url, database_url)
    settings = settings.model_copy(update={"redis_url": redis_url})
    app = SopBot(settings, config, clock=clock, redis_prefix=prefix)
    await app.start()
    return app


@pytest.fixture
async def pair(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, pg_database_url: str
) -> AsyncIterator[tuple[SopBot, SopBot]]:
    """Two bots on one PostgreSQL database (several processes need it: contract)."""
    prefix = unique_prefix()
    one = await _start(sandbox, config, clock, pg_database_url, SHARED_REDIS_URL, prefix)
    two = await _start(sandbox, config, clock, pg_database_url, SHARED_REDIS_URL, prefix)
    yield one, two
    await asyncio.gather(one.stop(), two.stop())


async def _queue_dms(app: SopBot, sandbox: TelegramSandbox, users: range, tag: str) -> None:
    async with app.db.transaction() as session:
        for uid in users:
            sandbox.add_user(uid, f"D{uid}")
            sandbox.world.dm_allowed.add(uid)
            await OutboxRepository(session).enqueue(
                key=f"{tag}:{uid}",
                chat_id=uid,
                chat_kind=ChatKind.PRIVATE,
                purpose="test",
                payload={"text": f"{tag} for {uid}"},
                now=app.clock.now(),
            )


async def _settle(*apps: SopBot, sandbox: TelegramSandbox) -> None:
    await asyncio.sleep(0.2)  # the other's answers come back meanwhile
    for app in apps:
        await settle(app, sandbox)


@pytest.mark.pg
async def test_two_bots_send_thirty_a_second_in_all(
    pair: tuple[SopBot, SopBot], sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    one, two = pair
    users = range(9101, 9191)
    await _queue_dms(one, sandbox, users, "shared")
    one.delivery.wake()
    two.delivery.wake()
    window = one.limiter.limits.global_per_second
    await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == window)
    await _settle(one, two, sandbox=sandbox)
    assert len(sandbox.sent_messages()) == window  # one second: the bot's 29, not 29 each
    seconds = 1
    while len(sandbox.sent_messages()) < len(users):
        clock.advance(seconds=1)
        seconds += 1
        await _settle(one, two, sandbox=sandbox)
        assert len(sandbox.sent_messages()) <= seconds * window
    assert Counter(m.chat_id for m in sandbox.sent_messages()) == Counter(users)  # once each
    assert sandbox.count_errors(429) == 0
    assert one.delivery.held == two.delivery.held == 0
    observed = [call for call in sandbox.calls if call.method == "sendMessage"]
    assert len(observed) == len(users)


async def test_redis_down_pauses_sending_and_the_team_hears_when_it_resumes(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    redis_server: RedisServer,
) -> None:
    app = await _start(sandbox, config, clock, database_url, redis_server.url, unique_prefix())
    try:
        await _queue_dms(app, sandbox, range(9201, 9204), "before")
        app.delivery.wake()
        await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == 3)
        redis_server.stop()
        await _queue_dms(app, sandbox, range(9204, 9210), "during")
        app.delivery.wake()
        for _ in range(3):  # time passes, nothing goes: the limits are not guessed
            clock.advance(seconds=2)
            await asyncio.sleep(0.2)
        assert len(sandbox.sent_messages()) == 3
        status, body = await app.health.report()
        assert status == 200  # updates are still taken: the balancer keeps the process
        assert body["sending"] is False and body["redis"] is False
        assert "Redis unreachable" in body["sending_paused"]
        assert "sopbot_sending_paused 1.0" in app.metrics.exposition().decode()
        redis_server.start()  # back, and empty
        for _ in range(5):
            clock.advance(seconds=2)
            await settle(app, sandbox)
        assert {m.chat_id for m in sandbox.sent_messages()} >= set(range(9201, 9210))
        notices = [m.text or "" for m in sandbox.sent_messages(TEAM_CHAT)]
        assert len(notices) == 1 and "Sending was paused" in notices[0]
        status, body = await app.health.report()
        assert body["sending"] is True and body["redis"] is True and "sending_paused" not in body
    finally:
        await app.stop()


@pytest.mark.pg
async def test_redis_flushed_mid_sending_sends_nothing_twice(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    pg_database_url: str,
    redis_server: RedisServer,
) -> None:
    prefix = unique_prefix()
    one = await _start(sandbox, config, clock, pg_database_url, redis_server.url, prefix)
    two = await _start(sandbox, config, clock, pg_database_url, redis_server.url, prefix)
    try:
        users = range(9301, 9361)
        await _queue_dms(one, sandbox, users, "flushed")
        one.delivery.wake()
        two.delivery.wake()
        await sandbox.wait_for(lambda: len(sandbox.sent_messages()) >= 10)
        redis_server.flush()  # the limits forget; the outbox does not
        for _ in range(8):
            clock.advance(seconds=1)
            await _settle(one, two, sandbox=sandbox)
        assert Counter(m.chat_id for m in sandbox.sent_messages()) == Counter(users)
    finally:
        await asyncio.gather(one.stop(), two.stop())
