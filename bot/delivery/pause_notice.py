"""The team is told when sending resumes after the shared limits (Redis) could not be asked.

Every process sees the outage end; the first to claim ``<prefix>resumed`` in Redis (``SET NX``,
a minute) queues the one notice, in the service lane so it goes out ahead of what waited.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.session import Database

log = logging.getLogger(__name__)

#: how long one process's claim on telling the team lasts (the others' outages ended with it)
CLAIM_SECONDS = 60


class PauseNotice:
    def __init__(
        self,
        db: Database,
        redis: Redis,
        prefix: str,
        team_chat: Callable[[], int | None],
        wake: Callable[[], None],
    ) -> None:
        self._db = db
        self._redis = redis
        self._prefix = prefix
        self._team_chat = team_chat
        self._wake = wake

    async def __call__(self, since: datetime, now: datetime) -> None:
        team_chat = self._team_chat()
        if team_chat is None:
            return
        try:
            claimed = await self._redis.set(
                f"{self._prefix}resumed", now.isoformat(), nx=True, ex=CLAIM_SECONDS
            )
        except (RedisError, OSError):
            return  # down again: the next recovery tells them
        if not claimed:
            return  # another process tells them
        paused = max(0, round((now - since).total_seconds()))
        text = (
            "⚠️ Sending was paused for about "
            f"{paused} s: Redis (the shared send limits) did not answer from "
            f"{html.escape(since.isoformat(timespec='seconds'))}. It answers again; what "
            "waited is being sent now."
        )
        async with self._db.transaction() as session:
            await OutboxRepository(session).enqueue(
                key=f"team:sending-resumed:{since.isoformat(timespec='seconds')}",
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.TEAM,
                payload={"text": text, "parse_mode": "HTML"},
                now=now,
                lane=SERVICE_LANE,
            )
        self._wake()
        log.info("the team is told that sending resumed (paused %d s)", paused)
