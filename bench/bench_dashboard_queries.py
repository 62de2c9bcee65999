"""The dashboard's read models (the queries under its pages) at 1,000,000 members with 90 days
of history: each query's server time (a fresh session, the read model's call) as p50 and p95
over repeated calls, and the ratio of the p95 to the dashboard's 200 ms limit, on SQLite (and
PostgreSQL with --pg). The sources funnel and campaign conversion are timed twice: worked out
(what the dashboard's loop does every few minutes) and as the pages read them (a snapshot).

The data is bench_kpi's (members, stints, rollups, sources, questions: ``bench_kpi.generate``)
and, set-based in the same way, what the other pages read: last-seen times, usernames,
lifecycle stages, tags and their history, coupons (every gifted member's, 20% redeemed),
orders, broadcasts with their recipients, the audit log, desk tickets and moderation actions.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    CONFIG_YAML,
    VIRTUAL_START,
    backends,
    fmt,
    machine,
    parser,
    percentile,
    print_table,
    ratio,
    scratch_database,
)
from bench_kpi import _series, _ts, generate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import parse_config
from bot.db.migrate import upgrade
from bot.db.session import create_engine, create_sessionmaker
from bot.runtime import engine_for
from bot.services.dashboard.broadcasts import BroadcastsQuery
from bot.services.dashboard.calendar import CalendarQuery
from bot.services.dashboard.coupons import CouponsQuery
from bot.services.dashboard.member_card import MemberCards
from bot.services.dashboard.members import MemberFilter, MemberSearch
from bot.services.dashboard.records import RecordsQuery
from bot.services.dashboard.snapshots import Snapshots
from bot.services.dashboard.sources import SourcesQuery
from bot.services.members.segments import SegmentService
from bot.services.members.tag_admin import TagAdminService

LIMIT_MS = 200.0
RUNS = 20
HISTORY = 90
BROADCASTS, RECIPIENTS = 40, 20_000
SCHEDULES = """
schedules:
  - id: morning_briefing
    cron: "0 8 * * *"
    template: morning_briefing
  - id: evening_qa
    cron: "0 12 * * *"
    template: evening_qa
"""


async def extend(engine: AsyncEngine, members: int, now: datetime) -> float:
    """What the other pages read, on top of bench_kpi's data; returns the seconds it took."""
    d = engine.dialect.name
    span = HISTORY * 86400
    base = now - timedelta(days=HISTORY)
    started = time.perf_counter()
    day = 86400
    statements = [
        # spoke up to 40 days after arriving (never later than now); a username each
        "UPDATE members SET username = 'user' || user_id, first_name = 'name' || user_id, "
        + (
            "last_seen_at = strftime('%Y-%m-%d %H:%M:%f', first_seen_at, '+' || "
            "((user_id * 7) % 40) || ' days') WHERE user_id % 3 <> 0"
            if d == "sqlite"
            else "last_seen_at = first_seen_at + make_interval(days => ((user_id * 7) % 40)::int) "
            "WHERE user_id % 3 <> 0"
        ),
        "UPDATE members SET username = 'user' || user_id WHERE user_id % 3 = 0",
        _series(
            d,
            members,
            "INSERT INTO member_stages (user_id, stage, since) SELECT i, CASE i % 4 "
            "WHEN 0 THEN 'active' WHEN 1 THEN 'new' WHEN 2 THEN 'silent' ELSE 'churned' END, "
            f"{_ts(d, base, '0')} FROM_SERIES",
        ),
        _series(
            d,
            members // 5,
            "INSERT INTO member_tags (user_id, tag, added_at, added_by) SELECT i * 5, "
            "CASE WHEN i % 20 = 0 THEN 'vip' ELSE 'tier:potential' END, "
            f"{_ts(d, base, f'(i * 5) % {span}')}, 'rule' FROM_SERIES",
        ),
        "INSERT INTO tag_events (user_id, tag, action, at, by) "
        "SELECT user_id, tag, 'added', added_at, added_by FROM member_tags",
        _series(
            d,
            members // 2,
            "INSERT INTO coupons (code, campaign, user_id, issued_by, issued_at, expires_at, "
            "redeemed_at) SELECT 'CODE' || (i * 2), 'newcomer', i * 2, "
            "CASE WHEN i % 10 = 0 THEN 'hook' ELSE 'welcome' END, m.first_seen_at, "
            "m.first_seen_at, CASE WHEN i % 5 = 0 THEN m.first_seen_at END "
            "FROM_SERIES JOIN members m ON m.user_id = i * 2",
        ),
        _series(
            d,
            members // 50,
            "INSERT INTO orders (order_id, user_id, amount_minor, currency, ordered_at, "
            f"received_at, via) SELECT 'o' || i, i * 10, 9900, 'CNY', "
            f"{_ts(d, base, f'(i * 10) % {span}')}, {_ts(d, base, f'(i * 10) % {span}')}, "
            "'api' FROM_SERIES",
        ),
        _series(
            d,
            BROADCASTS,
            "INSERT INTO broadcasts (segment, status, created_by, chat_id, chat_kind, locale, "
            "template, ab, seed, audience, created_at, started_at, finished_at, "
            "progress_edits, review_confirmed, promotional) SELECT 'all', 'done', 1001, 1001, "
            f"'private', 'en', 'guide', i % 2 = 0, 0, {RECIPIENTS}, "
            f"{_ts(d, base, f'i * {day * 2}')}, {_ts(d, base, f'i * {day * 2}')}, "
            f"{_ts(d, base, f'i * {day * 2} + 900')}, 0, "
            f"{'0' if d == 'sqlite' else 'false'}, {'0' if d == 'sqlite' else 'false'} "
            "FROM_SERIES",
        ),
        _series(
            d,
            BROADCASTS * RECIPIENTS,
            "INSERT INTO broadcast_recipients (broadcast_id, user_id, variant, status, "
            f"settled_at) SELECT (i - 1) / {RECIPIENTS} + 1, (i - 1) % {RECIPIENTS} + 1, "
            "CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, "
            "CASE WHEN i % 20 = 0 THEN 'blocked' ELSE 'sent' END, "
            f"{_ts(d, base, f'((i - 1) / {RECIPIENTS} + 1) * {day * 2} + 600')} FROM_SERIES",
        ),
        _series(
            d,
            HISTORY * 200,
            "INSERT INTO audit_log (update_id, at, user_id, user_name, chat_id, chat_kind, "
            f"command, args, result) SELECT i, {_ts(d, base, f'i * {span} / {HISTORY * 200}')}, "
            "1001, 'Olga', 1001, 'private', 'kpi', '', 'ok' FROM_SERIES",
        ),
        _series(
            d,
            HISTORY * 300,
            "INSERT INTO desk_tickets (user_id, status, opened_at, waiting_since, deadline, "
            "last_member_at, automatic, holding_sent, reminded, messages, unrelayed, "
            "relay_window_count, reopened) SELECT i, CASE WHEN i % 100 = 0 THEN 'open' "
            "ELSE 'closed' END, "
            + ", ".join([_ts(d, base, f"i * {span} / {HISTORY * 300}")] * 4)
            + ", "
            + ", ".join(["0" if d == "sqlite" else "false"] * 3)
            + ", 1, 0, 0, 0 FROM_SERIES",
        ),
        _series(
            d,
            HISTORY * 100,
            "INSERT INTO mod_actions (chat_id, user_id, action, rule, at, revoked) "
            f"SELECT -1002001, i, 'delete', 'banned_word', "
            f"{_ts(d, base, f'i * {span} / {HISTORY * 100}')}, "
            f"{'0' if d == 'sqlite' else 'false'} FROM_SERIES",
        ),
    ]
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql))
    async with engine.connect() as conn:
        if d == "postgresql":
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    return time.perf_counter() - started


Query = Callable[[AsyncSession], Awaitable[object]]


def queries(now: datetime) -> dict[str, Query]:
    config = parse_config(CONFIG_YAML + SCHEDULES, "bench/bench_dashboard.py")
    engine = engine_for(config)

    def search(**wanted: str) -> Query:
        return lambda s: MemberSearch(s, config).page(MemberFilter(**wanted))

    def snapshots(s: AsyncSession) -> Snapshots:
        return Snapshots(s, SourcesQuery(s, config), CouponsQuery(s, config))

    def cards(s: AsyncSession) -> MemberCards:
        return MemberCards(s, config, TagAdminService(s, config, SegmentService(s, config)))

    return {
        "sources 30 d": lambda s: SourcesQuery(s, config).funnel(30, now),
        "sources 90 d": lambda s: SourcesQuery(s, config).funnel(90, now),
        "members (newest)": search(),
        "members: name (none)": search(query="nobody"),
        "members: @username": search(query="@user4242"),
        "members: id": search(query="424242"),
        "members: tag vip": search(tag="vip"),
        "members: stage silent": search(stage="silent"),
        "members: tier+source": search(tier="potential", source="src_0"),
        "members: tier+source (none)": search(tier="potential", source="src_2"),
        "members: count (all)": lambda s: MemberSearch(s, config).count(MemberFilter()),
        "members: count tag vip": lambda s: MemberSearch(s, config).count(MemberFilter(tag="vip")),
        "members: count stage": lambda s: MemberSearch(s, config).count(MemberFilter(stage="new")),
        "member card": lambda s: cards(s).card(424_240, now),
        "sources 30 d (page)": lambda s: snapshots(s).sources(30, now),
        "coupons 30 d (page)": lambda s: snapshots(s).coupons(30, now),
        "calendar 7 d": lambda s: CalendarQuery(s, config, engine, Path(".")).week(now),
        "coupons 30 d": lambda s: CouponsQuery(s, config).conversion(30, now),
        "coupons ever": lambda s: CouponsQuery(s, config).conversion(None, now),
        "broadcasts": lambda s: BroadcastsQuery(s).page(now),
        "audit page 1": lambda s: RecordsQuery(s, config).audit(1),
        "audit page 100": lambda s: RecordsQuery(s, config).audit(100),
        "tickets": lambda s: RecordsQuery(s, config).tickets(now),
        "moderation": lambda s: RecordsQuery(s, config).moderation(now),
    }


async def measure(sessions: async_sessionmaker[AsyncSession], query: Query) -> list[float]:
    times = []
    for _ in range(RUNS + 1):  # the first call warms the caches and is left out
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await query(session)
        times.append((time.perf_counter() - started) * 1000)
    return times[1:]


async def run(backend: str, pg_url: str | None, members: int, only: list[str]) -> list[list[str]]:
    rows = []
    async with scratch_database(backend, pg_url) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            built = await generate(engine, members, HISTORY, VIRTUAL_START)
            built += await extend(engine, members, VIRTUAL_START)
            print(f"  {backend}: {members:,} members, data written in {built:.0f} s")
            sessions = create_sessionmaker(engine)
            for name, query in queries(VIRTUAL_START).items():
                if only and not any(word in name for word in only):
                    continue
                times = await measure(sessions, query)
                p95 = percentile(times, 95)
                rows.append(
                    [
                        backend,
                        name,
                        fmt(percentile(times, 50)),
                        fmt(p95),
                        ratio(p95, LIMIT_MS),
                        "ok" if not math.isnan(p95) and p95 < LIMIT_MS else "SLOW",
                    ]
                )
        finally:
            await engine.dispose()
    return rows


async def main() -> None:
    cli = parser(__doc__ or "")
    cli.add_argument("--only", nargs="*", default=[], help="the queries whose names contain these")
    args = cli.parse_args()
    members = 100_000 if args.quick else 1_000_000
    print(f"bench_dashboard_queries · {machine()}")
    rows = [row for b in backends(args.pg) for row in await run(b, args.pg, members, args.only)]
    print(f"\nDashboard queries, {members:,} members, {HISTORY} days of history ({RUNS} runs):")
    print_table(["backend", "query", "p50 ms", "p95 ms", "p95 ÷ 200 ms", ""], rows)


if __name__ == "__main__":
    asyncio.run(main())
