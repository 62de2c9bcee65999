"""What several processes of one bot share in Redis (``REDIS_URL``), wired in one place: the
send limits (``bot/delivery/shared_limits.py``), the flood and wave windows
(``bot/services/moderation/shared_counters.py``) and the operator directory's changes
(``bot/operator_sync.py``). Without ``REDIS_URL`` each is this process's own.

Keys of one bot live under ``sopbot:<bot id>:`` (``lim:``, ``mod:``, the channel ``ops``).
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bot.db.session import Database
from bot.delivery import shared_limits
from bot.delivery.gate import LocalGate, SendGate
from bot.delivery.limiter import Limits, RateLimiter
from bot.delivery.pause_notice import PauseNotice
from bot.operator_sync import Directory, OperatorSync
from bot.services.moderation.counters import FloodCounters, MemoryFloodCounters
from bot.services.moderation.shared_counters import RedisFloodCounters
from sop.clock import Clock


class SharedState:
    """``url`` ``None``: nothing is shared (one process)."""

    def __init__(self, url: str | None, bot_token: str, prefix: str | None = None) -> None:
        self._url = url
        self.prefix = prefix or shared_limits.key_prefix(bot_token)
        self._redis: Redis | None = shared_limits.connect(url) if url else None
        self._clients: list[Redis] = []

    def gate(
        self,
        db: Database,
        clock: Clock,
        limits: Limits | None,
        team_chat: Callable[[], int | None],
        wake: Callable[[], None],
    ) -> SendGate:
        if self._redis is None:
            return LocalGate(RateLimiter(limits))
        where = f"{self.prefix}lim:"
        notice = PauseNotice(db, self._redis, where, team_chat, wake)
        return shared_limits.RedisGate(self._redis, where, clock, limits, on_resume=notice)

    def flood_counters(self) -> FloodCounters:
        if self._redis is None:
            return MemoryFloodCounters()
        return RedisFloodCounters(self._redis, f"{self.prefix}mod:")

    def operator_sync(self, directory: Directory) -> OperatorSync | None:
        if self._url is None:
            return None
        listener = Redis.from_url(self._url, socket_connect_timeout=2)  # no read timeout
        self._clients.append(listener)
        return OperatorSync(listener, f"{self.prefix}ops", directory)

    async def close(self) -> None:
        for client in (self._redis, *self._clients):
            if client is not None:
                await client.aclose()
        self._clients = []
