"""Memory and stalls over the demo's whole day (joins, schedules, the daily passes) with
100,000 members already in the database (issue 14: "say the process's RSS after a day of the
demo's traffic"; ``bench_memory.py`` measures the bot's own process over a day of chatter).

The database is seeded with set-based SQL: N members (default 100,000; ids from 1,000,000 so
they never meet the demo crowd's), one open stint each in the community, half of them started
the bot (reachable), joined evenly over the 90 days before the demo's day, a fifth of them
silent for 40 days (the daily pass has lifecycle work to do). Then the demo's day is played as
``sopbot demo`` plays it (``bot.demo``: the same config, the same seeded crowd, the real bot over
HTTP against the sandbox on a virtual clock, 00:00 → 23:59, the 10:00 daily pass included).

Measured in this process (bot and sandbox share it, so the figure is an upper bound for the
bot): VmRSS from /proc/self/status before anything is imported-and-started, after the bot
started, and at the end of the day, and the peak (VmHWM). Peers, in the same run: the same
day on an empty database (what the 100,000 members cost), and the framework's floor — a fresh
Python process that imports aiogram and builds a ``Bot`` and a ``Dispatcher`` (aiogram 3 builds
its pydantic-core validators at import: most of the figure, aiogram issue #1513). The ratios to
that floor and to the 200 MB target are printed beside the figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    backends,
    fmt,
    machine,
    parser,
    print_table,
    quiet_logging,
    rss_mb,
    scratch_database,
)
from bench_kpi import _series, _ts
from pydantic import SecretStr
from sqlalchemy import text

import bot.demo_crowd
from bot.app import SopBot
from bot.config import Settings, parse_config
from bot.db.migrate import upgrade
from bot.db.session import create_engine
from bot.demo import CONFIG_YAML, TOKEN, Progress, play_day
from bot.demo_crowd import COMMUNITY, DAY_START, OPERATOR, TEAM_CHAT, Community, build_plan
from sandbox import TelegramSandbox
from sop.clock import ManualClock

TARGET_MB = 200.0
FIRST_ID = 1_000_000
HISTORY_DAYS = 90


FLOOR = """
import re
from aiogram import Bot, Dispatcher
bot, dp = Bot("1:x"), Dispatcher()
print(int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024)
"""


def aiogram_floor_mb() -> float:
    """The RSS of a bare aiogram process (a ``Bot`` and a ``Dispatcher``, nothing handled)."""
    out = subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


async def seed(url: str, members: int) -> float:
    """Writes the members and their stints; returns the seconds it took."""
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        await upgrade(engine)
        if not members:
            return 0.0
        dialect = engine.dialect.name
        base = DAY_START - timedelta(days=HISTORY_DAYS)
        span = HISTORY_DAYS * 86_400 - 3_600
        joined = _ts(dialect, base, f"i * {span} / {members}")
        # a fifth silent for 40 days, the rest seen the day before the demo's day
        seen = (
            f"CASE WHEN i % 5 = 0 THEN {_ts(dialect, base, f'{(HISTORY_DAYS - 40) * 86_400}')} "
            f"ELSE {_ts(dialect, base, f'{(HISTORY_DAYS - 1) * 86_400}')} END"
        )
        true, false = ("1", "0") if dialect == "sqlite" else ("true", "false")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    _series(
                        dialect,
                        members,
                        "INSERT INTO members (user_id, first_name, source, source_kind, "
                        "first_seen_at, last_seen_at, started_at, dm_allowed) "
                        f"SELECT {FIRST_ID} + i, 'm' || i, 'src_' || (i % 5), 'deeplink', "
                        f"{joined}, {seen}, CASE WHEN i % 2 = 0 THEN {joined} END, "
                        f"CASE WHEN i % 2 = 0 THEN {true} ELSE {false} END FROM_SERIES",
                    )
                )
            )
            await conn.execute(
                text(
                    _series(
                        dialect,
                        members,
                        "INSERT INTO memberships (chat_id, user_id, joined_at, "
                        "via_join_request, welcomed_at) "
                        f"SELECT {COMMUNITY}, {FIRST_ID} + i, {joined}, {false}, {joined} "
                        "FROM_SERIES",
                    )
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO member_counts (chat_id, members) "
                    f"SELECT {COMMUNITY}, count(*) FROM memberships WHERE left_at IS NULL"
                )
            )
        return time.perf_counter() - started
    finally:
        await engine.dispose()


class TimedCommunity(Community):
    """The demo's world, noting the longest the bot took to settle after a minute (the 10:00
    daily pass over every member is the long one)."""

    longest: tuple[float, str] = (0.0, "")

    async def settle(self) -> None:
        started = time.perf_counter()
        await super().settle()
        took = time.perf_counter() - started
        if took > self.longest[0]:
            self.longest = (took, f"{self.clock.now().astimezone(bot.demo_crowd.TZ):%H:%M}")


async def one_day(url: str, people: int) -> dict[str, float | str]:
    """The demo's day against ``url``; the RSS after the start and at the end."""
    plan = build_plan(people, 7, 24)
    clock = ManualClock(DAY_START)
    sandbox = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sandbox.add_chat(COMMUNITY, "supergroup", "Demo community")
    sandbox.add_chat(TEAM_CHAT, "supergroup", "Team")
    sandbox.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    sandbox.set_admin(COMMUNITY, OPERATOR)
    await sandbox.start()
    settings = Settings(bot_token=SecretStr(TOKEN), telegram_api_url=sandbox.url, database_url=url)
    app = SopBot(settings, parse_config(CONFIG_YAML, "bot/demo.py"), clock=clock, polling_timeout=1)
    started = time.perf_counter()
    try:
        await app.start()
        gc.collect()
        after_start = rss_mb()
        with contextlib.redirect_stderr(io.StringIO()):  # the demo's hourly progress lines
            community = TimedCommunity(plan, sandbox, app, clock, 7)
            await play_day(community, Progress(False, plan.minutes, 0))
        gc.collect()
        return {
            "start": after_start,
            "end": rss_mb(),
            "sent": float(len(sandbox.sent_messages())),
            "seconds": time.perf_counter() - started,
            "longest": f"{community.longest[0]:.1f} s at {community.longest[1]}",
        }
    finally:
        await app.stop()
        await sandbox.stop()


async def run(
    backend: str, pg_url: str | None, members: int, people: int, floor: float
) -> list[list[str]]:
    rows = []
    for count in (0, members):  # the peer first: the same day on an empty database
        async with scratch_database(backend, pg_url) as url:
            seconds = await seed(url, count)
            before = rss_mb()
            day = await one_day(url, people)
        rows.append(
            [
                backend,
                f"{count:,}",
                fmt(seconds),
                fmt(before),
                fmt(float(day["start"])),
                fmt(float(day["end"])),
                fmt(rss_mb("VmHWM")),
                f"{int(float(day['sent'])):,}",
                fmt(float(day["seconds"])),
                str(day["longest"]),
                f"{float(day['end']) / floor:.2f}×",
                f"{float(day['end']) / TARGET_MB:.2f}×",
            ]
        )
    return rows


async def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--members", type=int, default=None, help="members seeded (default 100,000)")
    p.add_argument("--people", type=int, default=200, help="the demo crowd (default 200)")
    args = p.parse_args()
    members = args.members or (10_000 if args.quick else 100_000)
    quiet_logging()
    bot.demo_crowd.SETTLE_WITHIN = 900.0  # the daily pass over 100,000 members takes a while
    print(f"bench_day_memory — {machine()}")
    print(
        f"{members:,} members seeded, then the demo's day ({args.people} people arrive); "
        "RSS of this process (bot + sandbox) in MB; peak = VmHWM so far in the process"
    )
    floor = aiogram_floor_mb()
    print(f"the floor: a bare aiogram process (Bot + Dispatcher) {floor:.1f} MB")
    rows = []
    for backend in backends(args.pg):
        rows += await run(backend, args.pg, members, args.people, floor)
    print_table(
        [
            "db",
            "members",
            "seed s",
            "RSS before",
            "after start",
            "end of day",
            "peak",
            "sent",
            "day s",
            "longest settle",
            "end ÷ floor",
            f"end ÷ {TARGET_MB:.0f} MB",
        ],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
