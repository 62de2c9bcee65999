"""One bot as N ``sopbot run`` processes: a scratch database on a test's own PostgreSQL
cluster, its own Redis, the sandbox (real clock) and a balancer in front of the processes.

    async with Stack(pg, redis, tmp_path, CONFIG) as stack:
        await stack.start()
        stack.sandbox.user_sends(...)
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import func, select

from bot.db.models import Member
from bot.db.models.broadcast import Broadcast
from bot.db.session import Database
from sandbox import Limits, TelegramSandbox
from tests.cluster.instances import Instances
from tests.cluster.servers import PostgresCluster
from tests.redis_server import RedisServer

TOKEN = "424242:SANDBOX-several-instances"
COMMUNITY = -1002001
TEAM_CHAT = -1005001
OPERATOR = 1001


def card(sandbox: TelegramSandbox) -> tuple[int, str] | None:
    """The broadcast card's message id and its Send button's data, once the bot showed it."""
    for message in reversed(sandbox.sent_messages(OPERATOR)):
        found = re.search(r"'(bc:send:[^']+)'", str(message.reply_markup))
        if found:
            return message.message_id, found.group(1)
    return None


class Stack:
    """The sandbox, a fresh database and ``count`` bot processes behind a balancer."""

    def __init__(
        self,
        pg: PostgresCluster,
        redis: RedisServer | None,
        workdir: Path,
        config_yaml: str,
        *,
        count: int = 3,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.pg = pg
        self.redis = redis
        self.sandbox = TelegramSandbox(token=TOKEN, limits=limits)
        self.sandbox.add_chat(COMMUNITY, "supergroup", "Demo community")
        self.sandbox.add_chat(TEAM_CHAT, "supergroup", "Team")
        self.sandbox.add_user(OPERATOR, "Olga", username="olga", language_code="en")
        self.database_url = pg.create_database(f"sopbot_{uuid.uuid4().hex[:12]}")
        config = workdir / "community.yaml"
        config.write_text(config_yaml)
        self._count = count
        self._workdir = workdir
        self.config_path = config
        self._env = dict(env or {})
        self.instances: Instances
        self.db = Database(self.database_url)

    async def __aenter__(self) -> Stack:
        """The sandbox and the balancer; :meth:`start` starts the processes."""
        api = await self.sandbox.start()
        self.instances = Instances(
            self._count,
            api_url=api,
            database_url=self.database_url,
            redis_url=self.redis.url if self.redis else None,
            config=self.config_path,
            logs=self._workdir / "logs",
            token=TOKEN,
            env=self._env,
        )
        return self

    async def start(self) -> None:
        """Every process at once, then until each answers ``/healthz`` with 200."""
        await self.instances.start()
        await self.instances.wait_healthy()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            await self.instances.stop()
        finally:
            await self.sandbox.stop()
            await self.db.dispose()
        if error is not None:  # what the processes said, beside the failure
            print(self.instances.outputs()[-20000:])

    # -- the world --------------------------------------------------------------------------

    async def seed_members(self, ids: Iterable[int]) -> list[int]:
        """Members who started the bot three days ago (in the ledger, allowed by Telegram)."""
        users = list(ids)
        then = datetime.now(UTC) - timedelta(days=3)
        async with self.db.transaction() as session:
            for uid in users:
                self.sandbox.add_user(uid, f"M{uid}", language_code="en")
                self.sandbox.world.dm_allowed.add(uid)
                session.add(
                    Member(
                        user_id=uid,
                        first_name=f"M{uid}",
                        language_code="en",
                        first_seen_at=then,
                        dm_allowed=True,
                        started_at=then,
                    )
                )
        return users

    async def count(self, column: Any, *where: Any) -> int:
        async with self.db.transaction() as session:
            return int(
                (await session.execute(select(func.count(column)).where(*where))).scalar_one()
            )

    def copies(self, users: Iterable[int]) -> Counter[int]:
        """Messages each of ``users`` got from the bot (copies of a broadcast, DMs)."""
        wanted = set(users)
        return Counter(m.chat_id for m in self.sandbox.sent_messages() if m.chat_id in wanted)

    async def broadcast(self, text: str, command: str = "/broadcast all") -> None:
        """The operator writes ``text`` to the bot, replies to it with ``command`` and presses
        Send on the card, as in Telegram."""
        sandbox = self.sandbox
        source = sandbox.user_sends(OPERATOR, text)["message"]["message_id"]
        await self.wait(lambda: sandbox.unconfirmed_updates() == 0, 60, "the text taken")
        sandbox.user_sends(OPERATOR, command, reply_to_message_id=source)
        await self.wait(lambda: card(sandbox) is not None, 60, "the broadcast card")
        shown = card(sandbox)
        assert shown is not None
        message_id, data = shown
        # as a person would: after the bot took note of the card it sent (its answer settled)
        await self.wait(
            lambda: self.count(Broadcast.id, Broadcast.card_message_id == message_id),
            60,
            "the card settled",
        )
        sandbox.press_button(OPERATOR, message_id, OPERATOR, data)

    async def wait(self, predicate: Any, timeout: float, what: str = "") -> None:  # noqa: ASYNC109
        """Real time until ``predicate()`` (sync or async) is true."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if loop.time() > deadline:
                raise AssertionError(f"not within {timeout}s: {what or predicate}")
            await asyncio.sleep(0.1)
