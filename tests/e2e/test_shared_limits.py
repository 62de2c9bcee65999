"""The limits shared in Redis (bot/delivery/shared_limits.py): two gates on connections of
their own, as two processes have, ask one Redis; together they keep the bot's limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.delivery.limiter import Limits
from bot.delivery.shared_limits import RedisGate, connect
from sop.clock import ManualClock, SystemClock
from tests.redis_server import SHARED_REDIS_URL, RedisServer, unique_prefix

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[RedisGate, RedisGate, ManualClock]]:
    """Two gates (two processes) on the shared Redis, on one virtual clock."""
    clock = ManualClock(T0)
    prefix = unique_prefix()
    clients = [connect(SHARED_REDIS_URL), connect(SHARED_REDIS_URL)]
    gates = [RedisGate(client, prefix, clock) for client in clients]
    yield gates[0], gates[1], clock
    for gate, client in zip(gates, clients, strict=True):
        await gate.close()
        await client.aclose()


async def _grants(gate: RedisGate, wants: list[tuple[int, str]], now: datetime) -> list[int]:
    answers = await gate.acquire(wants, now)
    return [chat for (chat, _), answer in zip(wants, answers, strict=True) if answer is None]


async def test_two_gates_together_grant_the_global_limit_once(
    pair: tuple[RedisGate, RedisGate, ManualClock],
) -> None:
    one, two, clock = pair
    limit = Limits().global_per_second
    now = clock.now()
    first = await _grants(one, [(chat, "private") for chat in range(1, 21)], now)
    second = await _grants(two, [(chat, "private") for chat in range(21, 41)], now)
    assert len(first) == 20 and len(second) == limit - 20  # not 20 + 20
    for chat in first:
        await one.complete(chat, "private", now)
    for chat in second:
        await two.complete(chat, "private", now + timedelta(milliseconds=300))
    half = now + timedelta(milliseconds=500)
    assert await _grants(two, [(99, "private")], half) == []
    answers = await one.acquire([(99, "private")], half)
    assert answers == [now + timedelta(seconds=1)]  # when the first answers age out
    later = now + timedelta(seconds=1, milliseconds=1)
    assert len(await _grants(one, [(chat, "private") for chat in range(41, 61)], later)) == 20


async def test_calls_in_flight_count_until_answered(
    pair: tuple[RedisGate, RedisGate, ManualClock],
) -> None:
    one, two, clock = pair
    limit = Limits().global_per_second
    now = clock.now()
    assert len(await _grants(one, [(c, "api") for c in range(1, limit + 1)], now)) == limit
    # none answered yet: a second later they still count (Telegram may count them any moment)
    later = now + timedelta(seconds=2)
    assert await _grants(two, [(500, "private")], later) == []
    await one.complete(1, "api", later)
    assert await _grants(two, [(500, "private")], later) == []  # its answer counts a second
    assert await _grants(two, [(500, "private")], later + timedelta(seconds=1, milliseconds=1))


async def test_a_group_gets_twenty_a_minute_from_both(
    pair: tuple[RedisGate, RedisGate, ManualClock],
) -> None:
    one, two, clock = pair
    limits = Limits()
    group = -100777
    at = clock.now()
    sent = 0
    for step in range(40):  # each gate tries in turn, a second apart, one call at a time
        gate = one if step % 2 == 0 else two
        if await _grants(gate, [(group, "group")], at):
            await gate.complete(group, "group", at)
            sent += 1
        at += timedelta(seconds=1)
    assert sent == limits.group_per_window
    answers = await one.acquire([(group, "group")], at)
    assert answers == [clock.now() + limits.group_window]  # the first answer's end of window


async def test_one_call_in_flight_per_chat_lane_across_gates(
    pair: tuple[RedisGate, RedisGate, ManualClock],
) -> None:
    one, two, clock = pair
    now = clock.now()
    group = -100888
    assert await _grants(one, [(group, "group")], now) == [group]
    assert await _grants(two, [(group, "group")], now) == []  # its message lane is busy
    assert await _grants(two, [(group, "api")], now) == [group]  # a deletion does not wait
    await one.complete(group, "group", now)
    assert await _grants(two, [(group, "group")], now) == [group]


async def test_a_retry_after_seen_by_one_holds_back_the_other(
    pair: tuple[RedisGate, RedisGate, ManualClock],
) -> None:
    one, two, clock = pair
    now = clock.now()
    await one.penalize(7, now + timedelta(seconds=9))
    assert await two.acquire([(7, "private"), (8, "private")], now) == [
        now + timedelta(seconds=9),
        None,
    ]
    await two.complete(8, "private", now)
    await one.penalize(-5, now + timedelta(seconds=4), everyone=True)  # a ban's 429: the bot's
    answers = await two.acquire([(9, "private"), (-6, "group")], now)
    assert answers == [now + timedelta(seconds=4), now + timedelta(seconds=4)]
    later = now + timedelta(seconds=4)
    assert await _grants(two, [(9, "private"), (-6, "group")], later) == [9, -6]


async def test_a_killed_holder_frees_its_chat_when_its_lease_ends() -> None:
    """A process killed mid-call never answers: its lease ends and the chat is free again."""
    clock = SystemClock()
    prefix = unique_prefix()
    lease = timedelta(milliseconds=400)
    killed_client, other_client = connect(SHARED_REDIS_URL), connect(SHARED_REDIS_URL)
    killed = RedisGate(killed_client, prefix, clock, lease=lease)
    other = RedisGate(other_client, prefix, clock, lease=lease)
    try:
        assert await _grants(killed, [(-42, "group")], clock.now()) == [-42]
        await killed.close()  # its lease renewal stops, as the process's would
        await killed_client.aclose()
        assert await _grants(other, [(-42, "group")], clock.now()) == []
        await asyncio.sleep(0.5)
        assert await _grants(other, [(-42, "group")], clock.now()) == [-42]
    finally:
        await other.close()
        await other_client.aclose()


async def test_a_running_call_keeps_its_lease() -> None:
    clock = SystemClock()
    prefix = unique_prefix()
    lease = timedelta(milliseconds=300)
    clients = [connect(SHARED_REDIS_URL), connect(SHARED_REDIS_URL)]
    holder, other = (RedisGate(c, prefix, clock, lease=lease) for c in clients)
    try:
        assert await _grants(holder, [(-43, "group")], clock.now()) == [-43]
        await asyncio.sleep(0.7)  # more than two leases: renewed meanwhile
        assert await _grants(other, [(-43, "group")], clock.now()) == []
        await holder.complete(-43, "group", clock.now())
        assert await _grants(other, [(-43, "group")], clock.now()) == [-43]
    finally:
        for gate in (holder, other):
            await gate.close()
        for client in clients:
            await client.aclose()


async def test_redis_down_grants_nothing_and_its_return_is_told(
    redis_server: RedisServer,
) -> None:
    clock = ManualClock(T0)
    resumed: list[tuple[datetime, datetime]] = []

    async def on_resume(since: datetime, now: datetime) -> None:
        resumed.append((since, now))

    client: Redis = connect(redis_server.url)
    gate = RedisGate(client, unique_prefix(), clock, on_resume=on_resume)
    try:
        assert await _grants(gate, [(1, "private")], clock.now()) == [1]
        await gate.complete(1, "private", clock.now())
        redis_server.stop()
        clock.advance(seconds=5)
        down_at = clock.now()
        answers = await gate.acquire([(2, "private"), (3, "group")], down_at)
        assert answers == [down_at + timedelta(seconds=1)] * 2  # never guessed
        assert gate.paused is not None and "Redis unreachable" in gate.paused
        redis_server.start()  # empty: it forgot everything, the outbox did not
        clock.advance(seconds=3)
        assert await _grants(gate, [(2, "private")], clock.now()) == [2]
        assert gate.paused is None
        await asyncio.sleep(0.05)
        assert resumed == [(down_at, clock.now())]
    finally:
        await gate.close()
        await client.aclose()
