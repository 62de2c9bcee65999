"""The dashboard's server time per page at 1k, 100k and 1M members with 90 days of history, on
SQLite and PostgreSQL (``--pg``), against the 200 ms p95 goal (issue 16).

The data is bench_kpi's (``generate``: members, stints, rollups, deltas, sources, questions).
Every page in ``bot/dashboard/pages`` is asked over HTTP from the real server as the Mini App
asks it (signed init data, a partial answer): the first request, then p50 and p95 of the next
RUNS. The peer, in the same run, is ``/kpi`` as the chat command works it out
(``KpiService.report`` and the template), which the overview includes.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from _common import (
    OPERATOR,
    TOKEN,
    VIRTUAL_START,
    backends,
    community_config,
    fmt,
    machine,
    parser,
    percentile,
    print_table,
    ratio,
    scratch_database,
)
from bench_kpi import generate

from bot.dashboard.auth import Authenticator
from bot.dashboard.initdata import sign
from bot.dashboard.pages import PAGES
from bot.dashboard.server import DashboardServer
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.rendering import Renderer
from bot.runtime import ConfigHolder, Runtime
from bot.services import BotIdentity
from bot.services.console.kpi import KpiPeriod, KpiService
from sop.clock import ManualClock

RUNS = 25
GOAL_MS = 200.0


def _init_data() -> str:
    user = json.dumps({"id": OPERATOR, "first_name": "Olga", "language_code": "zh"})
    fields = {"user": user, "auth_date": str(int(VIRTUAL_START.timestamp()) - 60)}
    return sign(fields, TOKEN)


async def _time(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    async with http.get(url, headers=headers) as response:
        await response.read()
        assert response.status == 200, (url, response.status)
    return (time.perf_counter() - started) * 1000


async def run(backend: str, pg_url: str | None, members: int) -> list[list[str]]:
    config = community_config()
    async with scratch_database(backend, pg_url) as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            seconds = await generate(db.engine, members, 90, VIRTUAL_START)
            clock = ManualClock(VIRTUAL_START)
            runtime = Runtime(
                db=db,
                clock=clock,
                config=ConfigHolder(config, Renderer()),
                identity=BotIdentity(id=1, username="bench_bot", privacy_key=b"k" * 32),
                config_dir=Path("."),
            )

            async def is_operator(user_id: int) -> bool:
                return user_id in config.team.operators

            auth = Authenticator(TOKEN, db, is_operator)
            server = DashboardServer("https://dash.example/", "127.0.0.1:0", runtime, auth, PAGES)
            stop = asyncio.Event()
            task = asyncio.create_task(server.serve(stop))
            await asyncio.wait_for(server.ready.wait(), 10)
            headers = {"X-Telegram-Init-Data": _init_data(), "X-Dashboard-Partial": "1"}
            rows = []
            async with aiohttp.ClientSession() as http:
                for page in PAGES:
                    target = f"{server.url}/{page.path}"
                    first = await _time(http, target, headers)
                    times = [await _time(http, target, headers) for _ in range(RUNS)]
                    rows.append((page.name, first, times))
            stop.set()
            await task
            today = VIRTUAL_START.astimezone(config.tz).date()
            renderer = Renderer()
            kpi_times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                async with db.transaction() as session:
                    report = await KpiService(session, config).report(
                        KpiPeriod("today", today, today), VIRTUAL_START
                    )
                renderer.render("kpi", "en", {"kpi": report})
                kpi_times.append((time.perf_counter() - started) * 1000)
        finally:
            await db.dispose()
    kpi = statistics.median(kpi_times)
    return [
        [
            backend,
            f"{members:,}",
            fmt(seconds),
            name,
            fmt(first),
            fmt(statistics.median(times)),
            fmt(percentile(times, 95)),
            fmt(kpi),
            ratio(statistics.median(times), kpi),
            ratio(percentile(times, 95), GOAL_MS),
        ]
        for name, first, times in rows
    ]


async def main() -> None:
    args = parser(__doc__ or "").parse_args()
    sizes = (1_000, 10_000, 100_000) if args.quick else (1_000, 100_000, 1_000_000)
    print(f"bench_dashboard · {machine()}")
    headers = [
        "backend",
        "members",
        "data s",
        "page",
        "first ms",
        "p50 ms",
        "p95 ms",
        "/kpi p50 ms",
        "p50 ÷ /kpi",
        "p95 ÷ 200 ms",
    ]
    rows = [row for b in backends(args.pg) for n in sizes for row in await run(b, args.pg, n)]
    print("\nserver time per page, as the Mini App asks it (90 days of history):")
    print_table(headers, rows)


if __name__ == "__main__":
    asyncio.run(main())
