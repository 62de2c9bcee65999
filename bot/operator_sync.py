"""The operator directory's changes handed to every process (``REDIS_URL``): what one process
learns of the team chat (someone removed, someone joined) is published on a Redis channel and
applied by the others at once, so a removed teammate loses operator rights everywhere, not when
each process's cache entry expires (``handlers/filters.py:OperatorDirectory``, five minutes).

A message lost while Redis is away costs at most that expiry: every entry is asked of Telegram
again after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

#: seconds between two tries to subscribe while Redis is away
RESUBSCRIBE = 1.0


class Directory(Protocol):
    """What of ``handlers/filters.py:OperatorDirectory`` this needs."""

    on_change: Callable[[int, int, bool], None] | None

    def remember(
        self, team_chat: int, user_id: int, present: bool = True, *, announce: bool = True
    ) -> None: ...


class OperatorSync:
    def __init__(self, redis: Redis, channel: str, directory: Directory) -> None:
        self._redis = redis
        self._channel = channel
        self._directory = directory
        self._me = uuid.uuid4().hex[:12]
        self._sending: set[asyncio.Task[None]] = set()
        #: subscribed (the tests wait for it before a change is made elsewhere)
        self.listening = asyncio.Event()
        directory.on_change = self.announce

    def announce(self, team_chat: int, user_id: int, present: bool) -> None:
        body = json.dumps({"from": self._me, "chat": team_chat, "user": user_id, "in": present})
        task = asyncio.create_task(self._publish(body), name="operator change")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish(self, body: str) -> None:
        try:
            await self._redis.publish(self._channel, body)
        except (RedisError, OSError) as error:
            log.warning("operator change not handed on (%s): it expires", type(error).__name__)

    async def run(self) -> None:
        """Applies the others' changes until cancelled (resubscribing after Redis was away)."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.listening.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._apply(message["data"])
            except (RedisError, OSError) as error:
                self.listening.clear()
                log.warning("operator changes: Redis away (%s)", type(error).__name__)
                await asyncio.sleep(RESUBSCRIBE)

    def _apply(self, data: bytes | str) -> None:
        try:
            change = json.loads(data)
            if change["from"] == self._me:
                return
            team_chat, user_id, present = int(change["chat"]), int(change["user"]), change["in"]
        except (ValueError, KeyError, TypeError):
            log.warning("operator changes: a message not understood was ignored")
            return
        self._directory.remember(team_chat, user_id, bool(present), announce=False)
