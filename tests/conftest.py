"""Shared fixtures: databases (SQLite and PostgreSQL), a virtual clock, the Telegram sandbox and
the real bot wired to both."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

import bot.db.models  # noqa: F401  (registers the tables on Base.metadata)
from bot.config import CommunityConfig, Settings, parse_config
from bot.db.base import Base
from bot.db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock
from tests.redis_server import RedisServer

#: property tests check results, not speed: a wall-clock deadline per example only measures how
#: busy the machine is (a 200 ms deadline failed at load 15 on two cores)
hypothesis_settings.register_profile("sopbot", deadline=None)
hypothesis_settings.load_profile("sopbot")

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get(
    "SOPBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

TOKEN = "424242:SANDBOX-token_for_tests"
COMMUNITY = -1002001
TEAM_CHAT = -1005001
OPERATOR = 1001

CONFIG_YAML = f"""
timezone: Asia/Shanghai
default_locale: zh
team:
  operators: [{OPERATOR}]
  chat: {TEAM_CHAT}
communities:
  - chat_id: {COMMUNITY}
    title: Demo community
welcome:
  within: 30m
  group_batch: 2m
  template: welcome
  gift_coupon: newcomer
first_response:
  within: 5m
coupons:
  newcomer:
    title: 新人礼包
    discount: "20%"
    valid_days: 7
    per_member: 1
"""


def _run_async(work: Coroutine[Any, Any, T]) -> T:
    """Runs ``work`` to completion from sync code (session fixtures may be set up while a test's
    event loop is running: a thread of its own keeps the loops apart)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _worker() -> str:
    """This pytest-xdist worker's id (``gw0``, ``gw1``, …), ``main`` without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _migrate(url: str) -> None:
    from bot.db.migrate import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _pg_admin(*statements: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _pg_scratch(suffix: str) -> Iterator[str]:
    """A PostgreSQL database of this worker's own, created for the session, dropped after it.

    The name carries the worker and the run (xdist's run id, or the pid): several checkouts on one
    machine run the suite against the same server at once, and none may drop another's database.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    name = f"sopbot_test_{run}_{_worker()}{suffix}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        # a test database need not survive a crash of the server: commits do not wait for the
        # WAL to reach the disk (what is committed, and when, is the same; only fsync is spared)
        _run_async(
            _pg_admin(
                drop,
                f'CREATE DATABASE "{name}"',
                f'ALTER DATABASE "{name}" SET synchronous_commit = off',
            )
        )
    except Exception as error:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not usable: {error}")
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    _run_async(_pg_admin(drop))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """This worker's PostgreSQL database, migrated once for the session (emptied per test)."""
    for url in _pg_scratch(""):
        _run_async(_migrate(url))
        yield url


@pytest.fixture(scope="session")
def pg_blank_database() -> Iterator[str]:
    """This worker's PostgreSQL database for migration tests (its schema is dropped per test)."""
    yield from _pg_scratch("_blank")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per worker; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "sopbot.db"
    _run_async(_migrate(f"sqlite+aiosqlite:///{path}"))  # disposed: the WAL is checkpointed
    return path


#: how long emptying the tables waits for a lock before it ends what holds it
EMPTY_LOCK_TIMEOUT = "2s"


async def _empty_tables(conn: AsyncConnection) -> None:
    """Deletes every row (children before parents) and restarts the sequences a test used.

    Only the tables that have rows are touched: a ``TRUNCATE`` of all 34 tables costs ~0.3 s on
    this server (new files for each table and index), a ``DELETE`` of a test's few rows ~10 ms.
    """
    await conn.execute(text(f"SET LOCAL lock_timeout = '{EMPTY_LOCK_TIMEOUT}'"))
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    probe = ", ".join(f'EXISTS (SELECT 1 FROM "{name}")' for name in tables)
    has_rows = (await conn.execute(text(f"SELECT {probe}"))).one()
    for name, full in zip(tables, has_rows, strict=True):
        if full:
            await conn.execute(text(f'DELETE FROM "{name}"'))
    used = await conn.execute(
        text(
            "SELECT quote_ident(sequencename) FROM pg_sequences "
            "WHERE schemaname = 'public' AND last_value IS NOT NULL"
        )
    )
    for sequence in used.scalars().all():
        await conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


async def _empty_pg(url: str) -> None:
    """Every table but Alembic's emptied, sequences restarted: what ``upgrade`` leaves behind.

    A connection left over from the previous test (a task that outlived it) can hold a lock the
    deletes wait on; after ``EMPTY_LOCK_TIMEOUT`` the other backends of this database are ended
    and it is tried once more.
    """
    engine = create_engine(url)
    try:
        for attempt in (1, 2):
            try:
                async with engine.begin() as conn:
                    await _empty_tables(conn)
                return
            except DBAPIError:
                if attempt == 2:
                    raise
            async with engine.connect() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database with empty tables, on each backend in turn (the schema is built once
    per session; a SQLite file is copied from a template, PostgreSQL tables are truncated)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "sopbot.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_database")
    await _empty_pg(url)
    yield url


@pytest.fixture
async def pg_database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The PostgreSQL database alone, migrated and emptied: what several processes share (on
    SQLite two processes' outbox claims are not exclusive; the contract asks for PostgreSQL).
    Mark the test ``pg``."""
    url: str = request.getfixturevalue("pg_database")
    await _empty_pg(url)
    yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no schema at all (not even Alembic's table), on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
        return
    url: str = request.getfixturevalue("pg_blank_database")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated, empty schema."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def clock() -> ManualClock:
    """09:00 in Shanghai on 2026-11-20."""
    return ManualClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(CONFIG_YAML, "tests/conftest.py")


def unused_port() -> int:
    """A local port nothing listens on: connecting to it is refused, a server may listen on it."""
    with socket.socket() as probe:  # bound, never listening, released
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own on a spare port (it may stop and flush it)."""
    server = RedisServer(unused_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(api_url: str, database_url: str) -> Settings:
    return Settings(bot_token=TOKEN, telegram_api_url=api_url, database_url=database_url)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line when the dashboard's browser tests were skipped for want of Chromium (never a
    silent skip: tests/e2e/browser_support.py)."""
    reasons = {
        str(report.longrepr[-1])
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(getattr(report, "longrepr", None), tuple)
    }
    browser = sorted(r for r in reasons if "/usr/bin/chromium" in r)
    if browser:
        terminalreporter.write_line(
            f"browser tests skipped: {browser[0].removeprefix('Skipped: ')}"
        )
