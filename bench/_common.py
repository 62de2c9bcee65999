"""Shared setup for the benchmarks: the community config, the sandbox world, scratch databases,
and the few helpers that measure and print.

Nothing here is a figure: every number a benchmark prints is measured in its own run, and every
limit it compares against is read from the sandbox or the bot (never typed in).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import text

from bot.config import CommunityConfig, Settings, parse_config
from bot.db.session import create_engine
from sandbox import TelegramSandbox

TOKEN = "424242:BENCH-offline-sandbox-token"
COMMUNITY, TEAM_CHAT, OPERATOR = -1002001, -1005001, 1001
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: where virtual clocks start: 09:00 in Shanghai on 2026-11-20 (as in the tests)
VIRTUAL_START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

CONFIG_YAML = f"""
timezone: Asia/Shanghai
default_locale: zh
team:
  operators: [{OPERATOR}]
  chat: {TEAM_CHAT}
communities:
  - chat_id: {COMMUNITY}
    title: Bench community
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


# -- command line ------------------------------------------------------------------------------


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set (or its peak, ``VmHWM``) in MB, as the kernel counts it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def parser(description: str) -> argparse.ArgumentParser:
    """``--quick`` and ``--pg [URL]``, shared by every benchmark."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a shorter run (smaller counts)")
    p.add_argument(
        "--pg",
        nargs="?",
        const=DEFAULT_PG_URL,
        default=None,
        metavar="URL",
        help="also run on PostgreSQL: a scratch database is created on this server "
        f"and dropped afterwards (default URL: {DEFAULT_PG_URL})",
    )
    return p


def backends(pg_url: str | None) -> list[str]:
    return ["sqlite"] + (["postgresql"] if pg_url else [])


def quiet_logging() -> None:
    """Warnings and errors only: the bot logs a line per 429, which is worth seeing."""
    logging.basicConfig(level=logging.WARNING, format="  [log] %(levelname)s %(name)s: %(message)s")


def machine() -> str:
    return (
        f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{platform.system()} {platform.release()}"
    )


# -- the world ---------------------------------------------------------------------------------


def community_config() -> CommunityConfig:
    return parse_config(CONFIG_YAML, "bench/_common.py")


def settings(api_url: str, database_url: str) -> Settings:
    return Settings(bot_token=TOKEN, telegram_api_url=api_url, database_url=database_url)


def new_sandbox(clock: Callable[[], float] | None = None) -> TelegramSandbox:
    """The community, the team chat and the operator, as in the tests."""
    sb = TelegramSandbox(token=TOKEN, clock=clock)
    sb.add_chat(COMMUNITY, "supergroup", "Bench community")
    sb.add_chat(TEAM_CHAT, "supergroup", "Team")
    sb.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    return sb


@contextlib.asynccontextmanager
async def serving(sandbox: TelegramSandbox) -> AsyncIterator[str]:
    url = await sandbox.start()
    try:
        yield url
    finally:
        await sandbox.stop()


@contextlib.asynccontextmanager
async def bare_polling(
    sandbox: TelegramSandbox, router: Router, *, polling_timeout: int, concurrency: int
) -> AsyncIterator[None]:
    """The framework's floor, the peer of the update benchmarks: a bare aiogram ``Dispatcher``
    with only ``router``, polling ``sandbox`` for what the bot asks for, until the block ends."""
    import handlers

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    async with serving(sandbox) as url:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
        polling = asyncio.create_task(
            dispatcher.start_polling(
                bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=handlers.ALLOWED_UPDATES,
                polling_timeout=polling_timeout,
                tasks_concurrency_limit=concurrency,
            )
        )
        try:
            yield
        finally:
            await dispatcher.stop_polling()
            await polling
            await bot.session.close()


@contextlib.asynccontextmanager
async def scratch_database(backend: str, pg_url: str | None) -> AsyncIterator[str]:
    """An empty database URL: a SQLite file in a temporary directory, or a PostgreSQL database
    created for this use on ``pg_url``'s server and dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sopbot-bench-") as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    assert pg_url is not None
    name = f"sopbot_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _pg_admin(pg_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _pg_admin(url: str, sql: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def wait_until(
    predicate: Callable[[], bool],
    timeout: float,  # noqa: ASYNC109  the bound is the helper's: its error names `what`
    what: str,
    *,
    every: float = 0.002,
) -> None:
    """Poll (real time, every ``every`` s) until ``predicate()``; ``TimeoutError`` naming
    ``what`` (a caller's ``asyncio.timeout`` could not say what was awaited)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"not reached within {timeout:.0f}s: {what}")
        await asyncio.sleep(every)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class SendRun:
    """What one sender achieved, all measured (times in seconds)."""

    name: str
    wanted: int
    delivered: int
    answered_429: int
    early_retries: int
    elapsed: float  # from the start the benchmark names until the job was done
    send_times: list[float]  # sandbox clock, per delivered message

    @property
    def lost(self) -> int:
        return self.wanted - self.delivered

    @property
    def rate(self) -> float:
        return self.delivered / self.elapsed if self.elapsed > 0 else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events in any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def fastest_drain(count: int, per_window: int, window: float) -> float:
    """The shortest first-to-last span in which ``count`` messages fit a limit of
    ``per_window`` per ``window`` seconds (full bursts, one window apart)."""
    if count <= 0:
        return 0.0
    return (math.ceil(count / per_window) - 1) * window


def ratio(value: float, reference: float) -> str:
    if not reference or math.isnan(value) or math.isnan(reference):
        return "n/a"
    return f"{value / reference:.2f}"


def fmt(value: float | int | str, digits: int = 1) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"  {first}  {rest}"

    print(line(headers))
    print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        print(line(row))
