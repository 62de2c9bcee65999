"""What replacing an erased member's Telegram id by a pseudonym costs (issue 15,
bot/db/repositories/pseudonyms.py), on a database of N members (default 20,000; --quick 5,000),
each with a sent outbox row (key ``gift:ID``, a payload naming them), 3 days of activity, a stint
and a tag event.

Measured on SQLite (and PostgreSQL with ``--pg``): the erasure's blanking alone (the identity,
links, coupons, tickets: the erasure before ids were pseudonymised, the reference) and the
re-keying alone (every person-id column of every table, the outbox keys and payloads, the audit
args), each over 20 members, one transaction each: ms per member, and the ratio re-key/blank.
Then the retention pass's batch (``RETENTION_BATCH`` members re-keyed in one transaction, as
the pass does): seconds, the time SQLite's write lock is held.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta

from _common import (
    COMMUNITY,
    VIRTUAL_START,
    backends,
    fmt,
    machine,
    parser,
    print_table,
    quiet_logging,
    ratio,
    scratch_database,
)
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.migrate import upgrade
from bot.db.models import ActivityDaily, Member, Membership, OutboxMessage, TagEvent
from bot.db.repositories.privacy import PrivacyRepository
from bot.db.repositories.pseudonyms import PseudonymRepository
from bot.db.session import Database
from bot.services.privacy.jobs import RETENTION_BATCH

CHUNK = 5000
FIRST = 10_000_000
SAMPLE = 20
BATCH = RETENTION_BATCH


async def seed(db: Database, members: int) -> None:
    now = VIRTUAL_START
    for start in range(0, members, CHUNK):
        ids = range(FIRST + start, FIRST + min(members, start + CHUNK))
        async with db.transaction() as session:
            await session.execute(
                insert(Member),
                [{"user_id": u, "first_name": f"M{u}", "first_seen_at": now} for u in ids],
            )
            await session.execute(
                insert(Membership),
                [{"chat_id": COMMUNITY, "user_id": u, "joined_at": now} for u in ids],
            )
            await session.execute(
                insert(ActivityDaily),
                [
                    {"chat_id": COMMUNITY, "user_id": u, "day": (now - timedelta(days=d)).date(),
                     "messages": 3}
                    for u in ids
                    for d in range(3)
                ],
            )  # fmt: skip
            await session.execute(
                insert(TagEvent),
                [{"user_id": u, "tag": "t", "action": "added", "at": now, "by": "b"} for u in ids],
            )
            await session.execute(
                insert(OutboxMessage),
                [
                    {"key": f"gift:{u}", "chat_id": u, "chat_kind": "private",
                     "purpose": "welcome_dm", "payload": {"text": f"Hi M{u}", "chat_id": u},
                     "status": "sent", "due_at": now, "created_at": now, "sent_at": now}
                    for u in ids
                ],
            )  # fmt: skip


async def measure(backend: str, pg_url: str | None, members: int) -> list[str]:
    async with scratch_database(backend, pg_url) as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            await seed(db, members)
            blank, rekey = [], []
            for n in range(SAMPLE):
                uid = FIRST + n
                started = time.perf_counter()
                async with db.transaction() as session:
                    await _blank(session, uid)
                blank.append(time.perf_counter() - started)
                started = time.perf_counter()
                async with db.transaction() as session:
                    pseudonyms = PseudonymRepository(session)
                    await pseudonyms.replace(uid, await pseudonyms.fresh())
                rekey.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with db.transaction() as session:
                repo = PrivacyRepository(session)
                for uid in range(FIRST + SAMPLE, FIRST + SAMPLE + BATCH):
                    await repo.rekey(uid)
            batch = time.perf_counter() - started
        finally:
            await db.dispose()
    b, r = statistics.mean(blank) * 1000, statistics.mean(rekey) * 1000
    return [backend, str(members), fmt(b), fmt(r), ratio(r, b), fmt(batch, 2)]


async def _blank(session: AsyncSession, uid: int) -> None:
    """The erasure's blanking as it was before ids were pseudonymised (the reference)."""
    await session.execute(
        update(Member).where(Member.user_id == uid).values(first_name="", username=None)
    )
    await session.execute(
        update(Membership).where(Membership.user_id == uid).values(invite_link=None)
    )
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.chat_id == uid).values(payload={})
    )


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    quiet_logging()
    members = 5_000 if args.quick else 20_000
    rows = [asyncio.run(measure(b, args.pg, members)) for b in backends(args.pg)]
    print(machine())
    print_table(
        ["backend", "members", "blank ms/member", "re-key ms/member", "re-key/blank",
         f"batch of {BATCH} s"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
