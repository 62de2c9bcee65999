"""Shared fixtures: databases (SQLite and PostgreSQL), a virtual clock, the Telegram sandbox and
the real bot wired to both."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, Settings, parse_config
from bot.db.session import create_engine, create_sessionmaker
from sop.clock import ManualClock

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


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database for this test session (dropped at the end)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    name = f"sopbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    def run(sql: str) -> None:  # fixtures may be set up inside a running loop: use a thread
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, admin(sql)).result()

    try:
        run(f'CREATE DATABASE "{name}"')
    except Exception as error:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not usable: {error}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database, on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sopbot.db'}"
        return
    url: str = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated, empty schema."""
    from bot.db.migrate import upgrade

    engine = create_engine(database_url)
    await upgrade(engine)
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


def settings_for(api_url: str, database_url: str) -> Settings:
    return Settings(bot_token=TOKEN, telegram_api_url=api_url, database_url=database_url)
