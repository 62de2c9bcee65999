"""Flood and wave windows shared in Redis (bot/services/moderation/shared_counters.py): the
messages of one chat handled by two processes, in turn, make the same bursts as one process
counting them all (``MemoryFloodCounters``, the rules of sop/flood.py)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import parse_config
from bot.config.moderation import ModerationConfig
from bot.delivery.shared_limits import connect
from bot.services.moderation.counters import MemoryFloodCounters, Noted
from bot.services.moderation.shared_counters import RedisFloodCounters
from sop.flood import wave_key
from tests.conftest import COMMUNITY, CONFIG_YAML
from tests.redis_server import SHARED_REDIS_URL, RedisServer, unique_prefix

FLOOD = """
moderation:
  flood: {messages: 5, seconds: 10}
  stickers: {messages: 3, seconds: 30}
  wave: {accounts: 3, within: 5m}
"""
T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
TEXTS = [
    "限时福利！加群领取免费课程资料，名额有限先到先得",
    "hello there everyone, nice to be here",
]


def _moderation() -> ModerationConfig:
    config = parse_config(CONFIG_YAML + FLOOD, "tests/e2e/test_shared_counters.py")
    moderation = config.moderation_for(COMMUNITY)
    assert moderation is not None
    return moderation


def _traffic(seed: int) -> list[Noted]:
    """Messages from four members over a few minutes: bursts of chatter, stickers, copies."""
    moderation = _moderation()
    rng = random.Random(seed)
    at, messages = T0, []
    for message_id in range(1, 400):
        at += timedelta(seconds=rng.choice([0.2, 0.5, 1, 2, 4, 15]))
        sender = rng.randint(1, 4)
        text = rng.choice([*TEXTS, f"msg {message_id}"])
        assert moderation.wave is not None
        key = wave_key(text, moderation.wave.min_length)
        sticker = rng.random() < 0.35
        messages.append(Noted(COMMUNITY, sender, message_id, sticker, key, at))
        if rng.random() < 0.05:  # Telegram redelivers an update
            messages.append(messages[-1])
    return messages


@pytest.fixture
async def shared() -> AsyncIterator[tuple[RedisFloodCounters, RedisFloodCounters]]:
    prefix = unique_prefix()
    clients = [connect(SHARED_REDIS_URL), connect(SHARED_REDIS_URL)]
    yield RedisFloodCounters(clients[0], prefix), RedisFloodCounters(clients[1], prefix)
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_two_processes_in_turn_count_as_one(
    shared: tuple[RedisFloodCounters, RedisFloodCounters], seed: int
) -> None:
    moderation = _moderation()
    alone = MemoryFloodCounters()
    one, two = shared
    expected, got = [], []
    for index, message in enumerate(_traffic(seed)):
        expected.append(await alone.note(message, moderation))
        got.append(await (one if index % 2 else two).note(message, moderation))
    assert got == expected
    started = {burst.rule for bursts in got for burst in bursts if burst.started}
    assert started == {"flood", "stickers", "wave"}  # it bites


async def test_redis_down_counts_alone(redis_server: RedisServer) -> None:
    moderation = _moderation()
    client = connect(redis_server.url)
    counters = RedisFloodCounters(client, unique_prefix())
    try:
        redis_server.stop()
        at = T0
        bursts = []
        for message_id in range(1, 6):
            at += timedelta(seconds=1)
            bursts += await counters.note(
                Noted(COMMUNITY, 7, message_id, False, None, at), moderation
            )
        assert [b.rule for b in bursts if b.started] == ["flood"]  # moderation goes on
    finally:
        await client.aclose()
