"""Memory at scale: the bot process's RSS after the demo's messages at 100,000 members.

    .venv/bin/python bench/bench_memory.py [--quick] [--pg [URL]] [-m MEMBERS] [-n MESSAGES]

The sandbox runs in a process of its own (``_remote.py``: its 100,000 users and its records are
not the bot's memory). The ledger is seeded with the members (bulk inserts: they joined before,
and spoke an hour ago), then they send messages drawn from the demo's own lines
(``bot/demo_crowd.py:CHATTER``: chatter, questions, hook words; default 10,000 — the demo's day
is about one per member, 40% of them saying 1–4 things, ``-n 100000`` for all of it) queued
2,000 at a time as the bot catches up. The joins themselves are not replayed (each takes the
single path; 100,000 of them take longer than a benchmark should). Printed: the process's RSS
(``VmRSS``) after start, after seeding, after the messages, and its peak (``VmHWM``), against
the 200 MB target; msg/s.
"""

from __future__ import annotations

import asyncio
import functools
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta

import _common as c
import _remote as _r
import yaml
from sqlalchemy import func, insert, select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ActivityDaily, Member
from bot.demo_crowd import CHATTER
from sandbox import TelegramSandbox

FIRST = 1_000_000
STEP = 2_000  # messages queued at once
SEED_CHUNK = 5_000
TARGET_MB = 200


def crowd(sandbox: TelegramSandbox, first: int, n: int) -> None:
    for uid in range(first, first + n):
        sandbox.add_user(uid, f"M{uid}", language_code="zh-hans")
        sandbox.set_admin(c.COMMUNITY, uid, "member")


def say(sandbox: TelegramSandbox, lines: list[tuple[int, str]]) -> None:
    for uid, text in lines:
        sandbox.user_sends(uid, text, chat_id=c.COMMUNITY)


def config() -> CommunityConfig:
    data = yaml.safe_load(c.CONFIG_YAML)
    data["hooks"] = [
        {"id": "guide", "keywords": ["666", "指南"], "template": "guide"},
        {"id": "vip", "keywords": ["vip"], "template": "guide"},
    ]
    return parse_config(yaml.safe_dump(data, allow_unicode=True), "bench/bench_memory.py")


async def caught_up(app: SopBot, pending: Callable[[], int]) -> None:
    """Until every queued update was fetched and handled (the outbox may still hold the hook
    answers: the group's 20 a minute is not what is measured here)."""
    quiet = 0
    while quiet < 3:
        busy = pending() or (app.runtime is not None and app.runtime.updates_in_flight)
        quiet = 0 if busy else quiet + 1
        await asyncio.sleep(0.01)


async def run(backend: str, pg_url: str | None, members: int, messages: int) -> list[str]:
    rng = random.Random(20261206)
    with _r.RemoteSandbox() as sandbox:
        sandbox.call(crowd, FIRST, members)
        pending = functools.partial(sandbox.call, _r.pending_updates)
        async with c.scratch_database(backend, pg_url) as db_url:
            app = SopBot(c.settings(sandbox.url, db_url), config(), polling_timeout=1)
            await app.start()
            try:
                started_mb = c.rss_mb()
                hour_ago = app.clock.now() - timedelta(hours=1)
                for first in range(FIRST, FIRST + members, SEED_CHUNK):  # the harness's
                    rows = [  # own memory kept small: it is the bot's that is measured
                        {
                            "user_id": uid,
                            "first_name": f"M{uid}",
                            "first_seen_at": hour_ago,
                            "last_seen_at": hour_ago,
                            "dm_allowed": False,
                        }
                        for uid in range(first, min(first + SEED_CHUNK, FIRST + members))
                    ]
                    async with app.db.transaction() as session:
                        await (await session.connection()).execute(insert(Member), rows)
                seeded_mb = c.rss_mb()
                began = time.perf_counter()
                for start in range(0, messages, STEP):
                    lines = [
                        (FIRST + rng.randrange(members), rng.choice(CHATTER))
                        for _ in range(min(STEP, messages - start))
                    ]
                    await sandbox.acall(say, lines)
                    await caught_up(app, pending)
                took = time.perf_counter() - began
                after_mb, peak_mb = c.rss_mb(), c.rss_mb("VmHWM")
                async with app.sessions() as session:
                    counted = (
                        await session.execute(select(func.sum(ActivityDaily.messages)))
                    ).scalar_one()
                    known = (
                        await session.execute(select(func.count()).select_from(Member))
                    ).scalar_one()
            finally:
                await app.stop()
    if counted != messages:
        raise RuntimeError(f"{backend}: {counted} of {messages} messages counted")
    return [
        f"sopbot ({backend})",
        str(known),
        str(messages),
        c.fmt(messages / took),
        c.fmt(started_mb, 0),
        c.fmt(seeded_mb, 0),
        c.fmt(after_mb, 0),
        c.fmt(peak_mb, 0),
        f"{peak_mb / TARGET_MB:.2f}",
    ]


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("-m", type=int, metavar="MEMBERS", help="members (default 100000)")
    p.add_argument("-n", type=int, metavar="MESSAGES", help="messages (default 10000, quick 2000)")
    args = p.parse_args()
    c.quiet_logging()
    members = args.m or (10_000 if args.quick else 100_000)
    messages = args.n or (2_000 if args.quick else 10_000)
    print(f"bench_memory — {c.machine()}")
    print(
        f"{members} members in the ledger, {messages} messages of the demo's mix "
        f"({len(CHATTER)} lines: chatter, questions, hook words), queued {STEP} at a time\n"
    )
    rows = [await run(b, args.pg, members, messages) for b in c.backends(args.pg)]
    headers = [
        "bot",
        "members",
        "messages",
        "msg/s",
        "RSS started MB",
        "seeded MB",
        "after the day MB",
        "peak MB",
        f"peak ÷ {TARGET_MB} MB",
    ]
    c.print_table(headers, rows)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
