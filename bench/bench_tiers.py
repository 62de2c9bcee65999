"""The daily value-tier pass over N members (default 10,000; --quick 2,000).

Seeded: every member seen within the last 200 days (a seeded spread), 10% with 1-8 orders in
the last 14 months, 5% with a redeemed coupon. Measured on SQLite (and PostgreSQL with --pg):

- the first pass (every tier tag written, with its history row) and a second one with nothing
  to change, as members per second;
- the pass's read alone (who should hold what, who holds what; best of three, tags in place)
  in the same run: the floor the idle pass is compared against;
- a pass after 1% of the members moved (a day's churn).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import timedelta

from _common import (
    VIRTUAL_START,
    backends,
    community_config,
    fmt,
    machine,
    parser,
    print_table,
    quiet_logging,
    ratio,
    scratch_database,
)
from sqlalchemy import insert, update

from bot.db.migrate import upgrade
from bot.db.models import Coupon, Member, Order
from bot.db.session import Database
from bot.services.members.jobs import tier_pass
from bot.services.members.tiers import TierService

CHUNK = 5000


async def seed(db: Database, members: int, rng: random.Random) -> None:
    now = VIRTUAL_START
    member_rows: list[dict[str, object]] = []
    order_rows: list[dict[str, object]] = []
    coupon_rows: list[dict[str, object]] = []
    for uid in range(1, members + 1):
        member_rows.append(
            {
                "user_id": uid,
                "first_name": f"M{uid}",
                "dm_allowed": True,
                "first_seen_at": now - timedelta(days=400),
                "last_seen_at": now - timedelta(days=rng.randint(0, 200)),
            }
        )
        if rng.random() < 0.10:
            for _ in range(rng.randint(1, 8)):
                order_rows.append(
                    {
                        "order_id": f"O{len(order_rows)}",
                        "user_id": uid,
                        "amount_minor": rng.randint(1000, 60000),
                        "ordered_at": now - timedelta(days=rng.randint(0, 420)),
                        "received_at": now,
                        "via": "import",
                    }
                )
        if rng.random() < 0.05:
            coupon_rows.append(
                {
                    "code": f"C{uid:014d}",
                    "campaign": "newcomer",
                    "user_id": uid,
                    "issued_by": "welcome",
                    "issued_at": now - timedelta(days=30),
                    "expires_at": now + timedelta(days=30),
                    "redeemed_at": now - timedelta(days=29),
                    "redeemed_via": "operator",
                }
            )
    for table, rows in ((Member, member_rows), (Order, order_rows), (Coupon, coupon_rows)):
        for start in range(0, len(rows), CHUNK):
            async with db.transaction() as session:
                await session.execute(insert(table), rows[start : start + CHUNK])


async def timed_read(db: Database) -> float:
    config = community_config()
    started = time.perf_counter()
    async with db.transaction() as session:
        service = TierService(session, config)
        await service.wanted(VIRTUAL_START)
        await service.holders()
    return time.perf_counter() - started


async def run(backend: str, pg_url: str | None, members: int) -> list[str]:
    config = community_config()
    async with scratch_database(backend, pg_url) as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            await seed(db, members, random.Random(7))
            started = time.perf_counter()
            first = await tier_pass(db, config, VIRTUAL_START)
            cold = time.perf_counter() - started
            read = min([await timed_read(db) for _ in range(3)])  # with the tags in place
            started = time.perf_counter()
            second = await tier_pass(db, config, VIRTUAL_START)
            idle = time.perf_counter() - started
            assert second.added == second.removed == 0
            async with db.transaction() as session:  # 1% speak again today
                await session.execute(
                    update(Member)
                    .where(Member.user_id % 100 == 0)
                    .values(last_seen_at=VIRTUAL_START)
                )
            started = time.perf_counter()
            churn = await tier_pass(db, config, VIRTUAL_START + timedelta(days=1))
            churned = time.perf_counter() - started
        finally:
            await db.dispose()
    tagged = sum(first.members.values())
    return [
        backend,
        str(members),
        str(tagged),
        fmt(cold, 2),
        fmt(members / cold, 0),
        fmt(idle, 2),
        fmt(members / idle, 0),
        fmt(read, 2),
        ratio(idle, read),
        f"{churn.added}+/{churn.removed}-",
        fmt(churned, 2),
    ]


def main() -> int:
    args = parser(__doc__ or "").parse_args()
    quiet_logging()
    members = 2_000 if args.quick else 10_000
    print(f"value-tier pass · {machine()}")
    rows = [asyncio.run(run(backend, args.pg, members)) for backend in backends(args.pg)]
    print_table(
        [
            "db",
            "members",
            "tagged",
            "first s",
            "members/s",
            "idle s",
            "members/s",
            "read s",
            "idle÷read",
            "day's moves",
            "moves s",
        ],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
