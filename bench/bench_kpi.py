"""``/kpi`` latency at 1k, 100k and 1M members with 90 days of history, and against the length
of the history (30, 90, 365 days at the same daily traffic), on SQLite and PostgreSQL.

The data is written with set-based SQL (a generated series of ids): members, one stint each
(joined evenly over the history, 10% left, greeted two minutes after joining), the daily
rollups, member deltas and joins per source, and questions (one per 1,000 members a day, at
least 20). /kpi is timed as the operator gets it: a fresh session, ``KpiService.report``
(today, or 7d) and the template rendered. The peer, in the same run, is what /kpi used to do
per community before (``count(*)`` of the open stints), which grows with the members.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    COMMUNITY,
    VIRTUAL_START,
    backends,
    community_config,
    fmt,
    machine,
    parser,
    print_table,
    ratio,
    scratch_database,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.migrate import upgrade
from bot.db.session import create_engine, create_sessionmaker
from bot.rendering import Renderer
from bot.services.console.kpi import KpiPeriod, KpiService
from bot.services.console.kpi_chart import render_chart

SOURCES = 5
RUNS = 25
TARGET_MS = 300.0


def _series(dialect: str, n: int, select: str) -> str:
    """``INSERT … SELECT`` over i = 1..n."""
    if dialect == "sqlite":
        return (
            f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq "
            f"WHERE i < {n}) {select.replace('FROM_SERIES', 'FROM seq')}"
        )
    return select.replace("FROM_SERIES", f"FROM generate_series(1::bigint, {n}) AS seq(i)")


def _ts(dialect: str, base: datetime, seconds: str) -> str:
    """A UTC timestamp ``seconds`` (an SQL expression) after ``base``."""
    stamp = base.strftime("%Y-%m-%d %H:%M:%S")
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', '{stamp}', '+' || ({seconds}) || ' seconds')"
    return f"(timestamptz '{stamp}+00' + make_interval(secs => ({seconds})))"


def _day(dialect: str, first: date, days: str) -> str:
    if dialect == "sqlite":
        return f"date('{first.isoformat()}', '+' || ({days}) || ' days')"
    return f"(date '{first.isoformat()}' + ({days})::int)"


async def generate(engine: AsyncEngine, members: int, history: int, now: datetime) -> float:
    """Writes the data; returns the seconds it took."""
    dialect = engine.dialect.name
    config = community_config()
    today = now.astimezone(config.tz).date()
    first = today - timedelta(days=history - 1)
    base = (
        datetime.combine(first, datetime.min.time(), tzinfo=config.tz)
        .astimezone(tz=None)
        .astimezone(now.tzinfo)
    )
    span = int((now - base).total_seconds()) - 1
    per_day = members // history
    questions = max(20, members // 1000)
    joined = _ts(dialect, base, f"i * {span} / {members}")
    true = "1" if dialect == "sqlite" else "true"
    false = "0" if dialect == "sqlite" else "false"
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                _series(
                    dialect,
                    members,
                    (
                        "INSERT INTO members (user_id, first_name, source, source_kind, "
                        "first_seen_at, started_at, dm_allowed, gift_sent_at) "
                        f"SELECT i, 'm', 'src_' || (i % {SOURCES}), 'deeplink', {joined}, "
                        f"CASE WHEN i % 2 = 0 THEN {joined} END, "
                        f"CASE WHEN i % 2 = 0 THEN {true} ELSE {false} END, "
                        f"CASE WHEN i % 2 = 0 THEN {joined} END FROM_SERIES"
                    ),
                )
            )
        )
        await conn.execute(
            text(
                _series(
                    dialect,
                    members,
                    (
                        "INSERT INTO memberships (chat_id, user_id, joined_at, left_at, "
                        "via_join_request, welcomed_at) "
                        f"SELECT {COMMUNITY}, i, {joined}, CASE WHEN i % 10 = 0 THEN "
                        f"{_ts(dialect, base, f'i * {span} / {members} + 3600')} END, {false}, "
                        f"{_ts(dialect, base, f'i * {span} / {members} + 120')} FROM_SERIES"
                    ),
                )
            )
        )
        day = _day(dialect, first, "i - 1")
        await conn.execute(
            text(
                _series(
                    dialect,
                    history,
                    (
                        "INSERT INTO daily_rollups (chat_id, day, joins, leaves, messages, "
                        "active_members, coupons_issued, dm_sent, dm_blocked, questions, "
                        "auto_answered, escalated, hooks_triggered, coupons_redeemed, reactivated, "
                        "silent_members) "
                        f"SELECT {COMMUNITY}, {day}, {per_day}, {per_day // 10}, {members // 3}, "
                        f"{members // 10}, 0, 0, 0, {questions}, 0, 0, 0, 0, {per_day // 20}, "
                        f"{members // 4} FROM_SERIES"
                    ),
                )
            )
        )
        await conn.execute(
            text(
                _series(
                    dialect,
                    history,
                    (
                        "INSERT INTO daily_rollups (chat_id, day, joins, leaves, messages, "
                        "active_members, coupons_issued, dm_sent, dm_blocked, questions, "
                        "auto_answered, escalated, hooks_triggered, coupons_redeemed, reactivated) "
                        f"SELECT 0, {day}, 0, 0, 0, 0, {per_day // 2}, {per_day // 2}, "
                        f"0, 0, 0, 0, 0, {per_day // 10}, 0 FROM_SERIES"
                    ),
                )
            )
        )
        await conn.execute(
            text(
                _series(
                    dialect,
                    history,
                    (
                        "INSERT INTO member_deltas (chat_id, day, delta) "
                        f"SELECT {COMMUNITY}, {day}, {per_day - per_day // 10} FROM_SERIES"
                    ),
                )
            )
        )
        await conn.execute(
            text(
                _series(
                    dialect,
                    history * SOURCES,
                    (
                        "INSERT INTO source_joins (chat_id, day, source, joins) "
                        f"SELECT {COMMUNITY}, {_day(dialect, first, f'(i - 1) / {SOURCES}')}, "
                        f"'src_' || (i % {SOURCES}), {per_day // SOURCES} FROM_SERIES"
                    ),
                )
            )
        )
        await conn.execute(
            text(
                "INSERT INTO member_counts (chat_id, members) "
                f"SELECT {COMMUNITY}, count(*) FROM memberships WHERE left_at IS NULL"
            )
        )
        asked = _ts(dialect, base, f"i * {span} / {questions * history}")
        await conn.execute(
            text(
                _series(
                    dialect,
                    questions * history,
                    (
                        "INSERT INTO questions (chat_id, message_id, user_id, asked_at, deadline, "
                        "status, response_seconds) "
                        f"SELECT {COMMUNITY}, i, i % {members} + 1, {asked}, "
                        f"{_ts(dialect, base, f'i * {span} / {questions * history} + 300')}, "
                        "'answered', (i * 37) % 600 FROM_SERIES"
                    ),
                )
            )
        )
    if dialect == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def timed(runs: int, call) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """The first call (it keeps the days that are over), then p50 and max over ``runs``
    calls, in ms."""
    started = time.perf_counter()
    await call()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(times), max(times)


async def measure(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[str, float]:
    config = community_config()
    renderer = Renderer()
    today = now.astimezone(config.tz).date()

    async def kpi(period: KpiPeriod) -> None:
        async with sessions() as session, session.begin():  # one transaction, as an update
            report = await KpiService(session, config).report(period, now)
        renderer.render("kpi", "en", {"kpi": report})

    async def chart() -> None:
        async with sessions() as session:
            series = await KpiService(session, config).series(today - timedelta(days=13), today)
        render_chart(series)

    async def count_open() -> None:
        async with sessions() as session:
            await session.execute(
                text(
                    f"SELECT count(*) FROM memberships WHERE chat_id = {COMMUNITY} "
                    "AND left_at IS NULL"
                )
            )

    out: dict[str, float] = {}
    out["first"], out["today"], out["today_max"] = await timed(
        RUNS, lambda: kpi(KpiPeriod("today", today, today))
    )
    _, out["week"], _ = await timed(
        RUNS, lambda: kpi(KpiPeriod("7d", today - timedelta(days=6), today))
    )
    _, out["chart"], _ = await timed(5, chart)
    _, out["count_open"], _ = await timed(5, count_open)
    return out


async def run(backend: str, pg_url: str | None, members: int, history: int) -> list[str]:
    async with scratch_database(backend, pg_url) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            seconds = await generate(engine, members, history, VIRTUAL_START)
            figures = await measure(create_sessionmaker(engine), VIRTUAL_START)
        finally:
            await engine.dispose()
    return [
        backend,
        f"{members:,}",
        f"{history} d",
        fmt(seconds),
        fmt(figures["first"]),
        fmt(figures["today"]),
        fmt(figures["today_max"]),
        fmt(figures["week"]),
        fmt(figures["chart"]),
        fmt(figures["count_open"]),
        ratio(figures["today"], TARGET_MS),
    ]


async def main() -> None:
    args = parser(__doc__ or "").parse_args()
    sizes = (1_000, 10_000, 100_000) if args.quick else (1_000, 100_000, 1_000_000)
    per_day = (10_000 if args.quick else 100_000) // 90
    print(f"bench_kpi · {machine()}")
    headers = [
        "backend",
        "members",
        "history",
        "data s",
        "first ms",
        "/kpi p50 ms",
        "max ms",
        "7d p50 ms",
        "chart ms",
        "count(open) ms",
        "p50 ÷ 300 ms",
    ]
    rows = [await run(b, args.pg, n, 90) for b in backends(args.pg) for n in sizes]
    print("\n/kpi against the number of members (90 days of history):")
    print_table(headers, rows)
    print(f"\n/kpi against the length of the history ({per_day:,} joins a day):")
    history_rows = [
        await run(b, args.pg, per_day * days, days)
        for b in backends(args.pg)
        for days in (30, 90, 365)
    ]
    print_table(headers, history_rows)
    for b in backends(args.pg):
        mine = [r for r in history_rows if r[0] == b]
        print(
            f"  {b}: /kpi p50 at 365 days ÷ at 30 days = "
            f"{ratio(float(mine[2][5]), float(mine[0][5]))}; count(open) at 365 ÷ 30 = "
            f"{ratio(float(mine[2][9]), float(mine[0][9]))}"
        )


if __name__ == "__main__":
    asyncio.run(main())
