"""Secrets never reach a log line, a database row or a reply (hardening item 3).

aiohttp's errors for a redirect loop name the URL, and the URL holds ``/bot<TOKEN>/``; aiogram
hands them on as text. Here the real bot talks to a Bot API that answers with a redirect to
itself: at start-up (``getMe``), for sends (outbox rows) and for ``getUpdates``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram.exceptions import TelegramNetworkError
from aiohttp import web
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, Settings
from bot.db.migrate import upgrade
from bot.db.models import Base, ChatKind
from bot.db.repositories import OutboxRepository
from bot.db.session import Database
from bot.redact import Redactor, install_log_redaction
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, unused_port
from tests.redis_server import RedisServer

#: shaped like a real token (the secret part is 35 characters)
TOKEN = "7212345678:AAHk9mZ3qR5tW8yB1cD4eF7gH0jK2lM5nP8"
WEBHOOK_SECRET = "whsec-Quiet-Lantern-4471"
ORDERS_SECRET = "orders-Amber-Falcon-90210-x"
DB_PASSWORD = "dbpw-Silent-Harbor-318"
REDIS_PASSWORD = "redispw-Copper-Moth-77"
SECRETS = (TOKEN, TOKEN.split(":")[1], WEBHOOK_SECRET, ORDERS_SECRET, DB_PASSWORD, REDIS_PASSWORD)
MEMBER = 2101


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


class LoopingApi:
    """A Bot API in front of the sandbox: the methods in ``broken`` (``"*"``: all) are answered
    with a redirect to themselves, the rest are passed on."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.broken: set[str] = set()
        self.looped: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._client = aiohttp.ClientSession()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.path.rsplit("/", 1)[-1].lower()
        if "*" in self.broken or method in self.broken or self.upstream is None:
            self.looped[method] += 1
            raise web.HTTPTemporaryRedirect(location=str(request.rel_url))  # 307 keeps POST
        assert self._client is not None
        headers = (
            {"Content-Type": request.headers["Content-Type"]}
            if "Content-Type" in request.headers
            else {}
        )
        async with self._client.request(
            request.method,
            f"{self.upstream}{request.rel_url}",
            data=await request.read(),
            headers=headers,
        ) as answer:
            return web.Response(
                body=await answer.read(), status=answer.status, content_type=answer.content_type
            )


def with_db_password(database_url: str) -> str:
    """PostgreSQL here trusts local connections: a password in the URL is sent to no one."""
    return database_url.replace(
        "postgresql+asyncpg://postgres@", f"postgresql+asyncpg://postgres:{DB_PASSWORD}@"
    )


@pytest.fixture
def secret_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own that asks for a password (sending needs the shared limits)."""
    server = RedisServer(unused_port(), password=REDIS_PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def secret_environment(
    api_url: str, database_url: str, config: Path, redis_url: str
) -> dict[str, str]:
    return {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "SOPBOT_CONFIG": str(config),
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ORDERS_SECRET": ORDERS_SECRET,
        "ORDERS_LISTEN": f"127.0.0.1:{unused_port()}",
        "REDIS_URL": redis_url,
        "SOPBOT_LOG_LEVEL": "INFO",
    }


async def rows_text(db: Database) -> str:
    """Every value of every row of every table, as text."""
    values: list[str] = []
    async with db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                values.extend(str(value) for value in row)
    return "\n".join(values)


def formatted(records: list[logging.LogRecord]) -> str:
    """Each record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in records)


@pytest.fixture
async def looping() -> AsyncIterator[LoopingApi]:
    api = LoopingApi()
    yield api
    await api.stop()


async def test_a_redirect_loop_at_start_up_is_logged_without_the_token(
    looping: LoopingApi, caplog: pytest.LogCaptureFixture, tmp_path: Path, config: CommunityConfig
) -> None:
    url = await looping.start()
    looping.broken.add("*")
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=url,
        webhook_secret=WEBHOOK_SECRET,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )
    undo = install_log_redaction(Redactor.from_settings(settings))  # as ``sopbot run`` does
    try:
        bot = SopBot(settings, config)
        with caplog.at_level(logging.INFO):
            try:
                await bot.start()
            except TelegramNetworkError as error:
                assert TOKEN in error.message  # aiogram's text does hold it: the test bites
                logging.getLogger("bot").exception("cannot reach the Bot API: %s", error.message)
            else:
                pytest.fail("the bot started against a redirect loop")
    finally:
        undo()
    assert looping.looped["getme"] > 0
    assert "TooManyRedirects" in caplog.text and "Traceback" in caplog.text
    assert leaked(caplog.text) == [] and leaked(formatted(caplog.records)) == []


async def test_sends_and_get_updates_in_a_redirect_loop_leave_no_secret_behind(
    looping: LoopingApi,
    caplog: pytest.LogCaptureFixture,
    database_url: str,
    config: CommunityConfig,
    clock: ManualClock,
    secret_redis: RedisServer,
) -> None:
    original_factory = logging.getLogRecordFactory()
    sandbox = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sandbox.add_user(MEMBER, "Mia", language_code="en")
    looping.upstream = await sandbox.start()
    url = await looping.start()
    database_url = with_db_password(database_url)
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=url,
        database_url=database_url,
        webhook_secret=WEBHOOK_SECRET,
        orders_secret=ORDERS_SECRET,
        orders_listen=f"127.0.0.1:{unused_port()}",
        redis_url=secret_redis.url,
    )
    app = SopBot(settings, config, clock=clock, polling_timeout=1)
    try:
        with caplog.at_level(logging.INFO):
            await app.start()
            looping.broken.add("sendmessage")
            sandbox.user_sends(MEMBER, "/start")  # the welcome DM goes into the loop

            for _ in range(600):  # the row's retry is logged once its last_error is stored
                if "TooManyRedirects" in caplog.text and "outbox row" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            looping.broken.add("getupdates")
            for _ in range(600):
                if "getUpdates failed" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            stored = await rows_text(app.db)
    finally:
        await app.stop()
        await looping.stop()
        await sandbox.stop()
    assert logging.getLogRecordFactory() is original_factory  # undone when the bot stops
    assert "outbox row" in caplog.text and "getUpdates failed" in caplog.text
    assert "TooManyRedirects" in stored  # the row's last_error was written, without the token
    assert leaked(caplog.text) == [] and leaked(formatted(caplog.records)) == []
    assert leaked(stored) == []
    replies = "\n".join(message.text or "" for message in sandbox.sent_messages())
    assert leaked(replies) == []


async def test_sopbot_run_writes_no_secret_to_stderr(
    looping: LoopingApi, tmp_path: Path, secret_redis: RedisServer
) -> None:
    """The real process: a redirect loop at start-up, then one for sends and getUpdates."""
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    url = await looping.start()
    looping.broken.add("*")
    env = {
        **os.environ,
        **secret_environment(
            url, f"sqlite+aiosqlite:///{tmp_path / 'start.db'}", config, secret_redis.url
        ),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    stderr = err.decode()
    assert process.returncode == 1, stderr
    assert "cannot reach the Bot API" in stderr and "TooManyRedirects" in stderr
    assert leaked(stderr) == [] and "Traceback" not in stderr

    # mid-run: start-up goes through, then every send and getUpdates loop
    sandbox = TelegramSandbox(token=TOKEN)
    looping.upstream = await sandbox.start()
    looping.broken = {"sendmessage", "getupdates"}
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    db = Database(database_url)
    await upgrade(db.engine)
    async with db.transaction() as session:
        await OutboxRepository(session).enqueue(
            key="test:hello",
            chat_id=MEMBER,
            chat_kind=ChatKind.PRIVATE,
            purpose="test",
            payload={"text": "hello"},
            now=datetime.now(UTC) - timedelta(seconds=1),
        )
    env = {**os.environ, **secret_environment(url, database_url, config, secret_redis.url)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(600):
            if "TooManyRedirects" in await rows_text(db) and looping.looped["getupdates"]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the INFO line follows the commit
        stored = await rows_text(db)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        await db.dispose()
        await sandbox.stop()
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert "TooManyRedirects" in stored and "outbox row" in stderr
    assert "getUpdates failed" in stderr
    assert leaked(stderr) == [] and leaked(stored) == []
    assert "Traceback" not in stderr


def test_the_redactor_masks_known_values_and_secret_shapes() -> None:
    settings = Settings(
        bot_token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        orders_secret=ORDERS_SECRET,
        database_url="postgresql+asyncpg://u:p%40ss-Harbor@db.example/sop",
        redis_url=f"redis://:{REDIS_PASSWORD}@cache:6379/0",
    )
    redact = Redactor.from_settings(settings).redact
    assert redact(f"url='http://h/bot{TOKEN}/getMe'") == "url='http://h/bot***/getMe'"
    assert (
        redact(f"secret {TOKEN.split(':')[1]} and {WEBHOOK_SECRET}, {ORDERS_SECRET}")
        == "secret *** and ***, ***"
    )
    assert redact("p@ss-Harbor / p%40ss-Harbor / " + REDIS_PASSWORD) == "*** / *** / ***"
    unknown = Redactor().redact  # no settings: the shapes still go
    assert unknown("GET /bot99887766:AAE_other-token/sendMessage") == "GET /bot***/sendMessage"
    assert unknown("token 99887766:AAEabcdefghijklmnopqrstuvwxyz0123") == "token ***"
    assert (
        unknown("postgresql+asyncpg://user:hunter2@host/db")
        == "postgresql+asyncpg://user:***@host/db"
    )
    assert unknown("at 12:30:45, 3 rows") == "at 12:30:45, 3 rows"
    assert "known" in repr(Redactor([WEBHOOK_SECRET])) and WEBHOOK_SECRET not in repr(
        Redactor([WEBHOOK_SECRET])
    )


def test_log_redaction_installs_once_and_is_undone(caplog: pytest.LogCaptureFixture) -> None:
    original = logging.getLogRecordFactory()
    first = install_log_redaction(Redactor([WEBHOOK_SECRET]))
    factory = logging.getLogRecordFactory()
    second = install_log_redaction(Redactor([ORDERS_SECRET]))
    assert logging.getLogRecordFactory() is factory  # not wrapped twice
    log = logging.getLogger("tests.secrets")
    with caplog.at_level(logging.INFO):
        log.info("plain %s", "text")
        log.info("secrets %s %s", WEBHOOK_SECRET, ORDERS_SECRET)
        try:
            raise RuntimeError(f"boom {ORDERS_SECRET}")
        except RuntimeError:
            log.exception("failed")
    first()
    first()  # undoing twice is harmless
    assert logging.getLogRecordFactory() is factory  # the second is still installed
    second()
    assert logging.getLogRecordFactory() is original
    plain, masked, failed = caplog.records
    assert (plain.msg, plain.args) == ("plain %s", ("text",))  # untouched when nothing to hide
    assert masked.getMessage() == "secrets *** ***"
    assert "boom ***" in caplog.text and leaked(caplog.text) == []
    assert failed.exc_text is not None and ORDERS_SECRET not in failed.exc_text
