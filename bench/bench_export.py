"""/export members at scale: time, rows per second and peak memory of the streamed export,
against loading the table whole (the naive way) in the same run; then the whole path through
the real bot and the sandbox (command → CSV document received).

    .venv/bin/python bench/bench_export.py [--quick] [--pg [URL]]
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from _common import (
    OPERATOR,
    VIRTUAL_START,
    backends,
    community_config,
    fmt,
    machine,
    new_sandbox,
    parser,
    print_table,
    quiet_logging,
    ratio,
    scratch_database,
    serving,
    settings,
    wait_until,
)
from sqlalchemy import insert, select

from bot.app import SopBot
from bot.db.migrate import upgrade
from bot.db.models import Member, MemberTag
from bot.db.session import Database
from bot.rendering import Renderer
from bot.services.messenger import Messenger
from bot.services.records.exports import ExportService

BATCH = 10_000


async def seed(db: Database, members: int) -> None:
    now = VIRTUAL_START
    for start in range(0, members, BATCH):
        async with db.transaction() as session:
            await session.execute(
                insert(Member),
                [
                    {
                        "user_id": 10**6 + i,
                        "first_name": f"成员{i}",
                        "username": f"user{i}",
                        "language_code": "zh",
                        "source": f"src{i % 20}",
                        "source_kind": "deeplink",
                        "first_seen_at": now - timedelta(minutes=i),
                        "started_at": now,
                        "dm_allowed": i % 2 == 0,
                        "unreachable_at": None,
                        "last_seen_at": now,
                        "gift_sent_at": None,
                    }
                    for i in range(start, min(members, start + BATCH))
                ],
            )
            await session.execute(
                insert(MemberTag),
                [
                    {"user_id": 10**6 + i, "tag": tag, "added_at": now, "added_by": "bench"}
                    for i in range(start, min(members, start + BATCH), 3)
                    for tag in ("vip", "interest:tea")
                ],
            )


async def streamed(db: Database) -> int:
    config = community_config()
    async with db.transaction() as session:
        service = ExportService(session, config, Messenger(session, Renderer(), config))
        spool = await service.members_csv(None)
    size = spool.path.stat().st_size
    spool.discard()
    return size


async def naive(db: Database) -> int:
    """Every member as an ORM object, then one CSV string in memory."""
    async with db.transaction() as session:
        members = (await session.execute(select(Member).order_by(Member.user_id))).scalars().all()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for m in members:
            writer.writerow(
                [
                    m.user_id,
                    m.first_name,
                    m.username,
                    m.language_code,
                    m.source,
                    m.first_seen_at,
                    m.last_seen_at,
                    m.dm_allowed,
                ]
            )
        return len(buffer.getvalue().encode("utf-8"))


async def measure(run: Callable[[], Awaitable[int]]) -> dict[str, float]:
    started = time.perf_counter()
    size = await run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    await run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "mb": size / 1024 / 1024, "peak_mb": peak / 1024 / 1024}


async def end_to_end(url: str, members: int) -> dict[str, Any]:
    sandbox = new_sandbox()
    async with serving(sandbox) as api:
        app = SopBot(settings(api, url), community_config(), polling_timeout=1)
        await app.start()
        try:
            sandbox.user_sends(OPERATOR, "/start")
            await wait_until(lambda: len(sandbox.sent_messages(OPERATOR)) >= 1, 30, "/start")
            await asyncio.sleep(1.1)  # one message a second to a private chat
            started = time.perf_counter()
            sandbox.user_sends(OPERATOR, "/export members")
            await wait_until(lambda: bool(sandbox.sent_files(OPERATOR)), 300, "the CSV")
            seconds = time.perf_counter() - started
            data = sandbox.sent_files(OPERATOR)[0].data or b""
            rows = data.decode("utf-8-sig").count("\n") - 1
        finally:
            await app.stop()
    return {
        "seconds": seconds,
        "rows": rows,
        "mb": len(data) / 1024 / 1024,
        "complete": rows >= members,
    }


async def main() -> None:
    args = parser(__doc__ or "").parse_args()
    quiet_logging()
    members = 10_000 if args.quick else 100_000
    print(f"# /export members — {members:,} members · {machine()}\n")
    table = []
    for backend in backends(args.pg):
        async with scratch_database(backend, args.pg) as url:
            db = Database(url)
            try:
                await upgrade(db.engine)
                await seed(db, members)
                ours = await measure(functools.partial(streamed, db))
                peer = await measure(functools.partial(naive, db))
            finally:
                await db.dispose()
            e2e = await end_to_end(url, members)
        table.append(
            [
                backend,
                fmt(ours["seconds"], 2),
                fmt(members / ours["seconds"], 0),
                fmt(ours["mb"]),
                fmt(ours["peak_mb"]),
                fmt(peer["seconds"], 2),
                fmt(peer["peak_mb"]),
                ratio(ours["peak_mb"], peer["peak_mb"]),
                fmt(e2e["seconds"], 2),
                "yes" if e2e["complete"] else "NO",
            ]
        )
    print_table(
        [
            "db",
            "export s",
            "rows/s",
            "CSV MB",
            "peak MB",
            "naive s",
            "naive peak MB",
            "peak ÷ naive",
            "command→document s",
            "all rows",
        ],
        table,
    )
    print(
        "\npeak MB: Python allocations (tracemalloc) during the export; the naive peer loads "
        "every member as an ORM object and builds the CSV in memory (fewer columns, no tags)."
    )


if __name__ == "__main__":
    asyncio.run(main())
