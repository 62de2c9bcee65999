"""The daily lifecycle pass over N members (default 100,000; --quick 20,000), and the cost of
incremental tagging per community message.

1. **Daily pass.** Seeded: N members first seen 0-400 days ago, 80% of them with a last message
   0-200 days ago, each in the community; 20% with activity rows in the last week (the
   behaviour rule ``chatty``: 3 messages in 7 days). Measured on SQLite (and PostgreSQL with
   ``--pg``): the first pass (every member's stage row and history row written), the next
   day's pass (the day's transitions only), as members per second; and in the same run the
   pass's read alone (every member's stage as the pass computes it, counted per stage), the
   floor the day's pass is compared against.
2. **Incremental tagging.** M community messages (default 2,000; --quick 500) by 1,000 members
   (and the same messages by 1,000 twins, for the tagged run), each in its own transaction as
   an update is handled: the ledger's work alone (counting the message, never its text: the
   baseline) and the ledger plus the lifecycle's work (stage
   check, reactivation, interest tags from 20 interests × 10 zh/en keywords; the stages as a
   daily pass left them, so a silent author's first message moves them back), alternating
   message by message so that the machine's load falls on both alike — µs per message (p50
   and mean), and the difference. Also the interest matcher alone (no database) against
   ``normalize``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from _common import (
    COMMUNITY,
    CONFIG_YAML,
    VIRTUAL_START,
    backends,
    fmt,
    machine,
    parser,
    percentile,
    print_table,
    quiet_logging,
    ratio,
    scratch_database,
)
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, parse_config
from bot.db.migrate import upgrade
from bot.db.models import ActivityDaily, Member, Membership
from bot.db.repositories.lifecycle import stage_expression
from bot.db.session import Database
from bot.rendering import build_renderer
from bot.runtime import engine_for
from bot.services import BotIdentity, Services
from bot.services.dto import GroupMessage, Person
from sop.keywords import normalize

CHUNK = 5000
INTERESTS = 20
WORDS_ZH = [
    "咖啡",
    "茶",
    "跑步",
    "健身",
    "摄影",
    "旅行",
    "读书",
    "电影",
    "音乐",
    "烘焙",
    "露营",
    "滑雪",
    "游泳",
    "编程",
    "理财",
    "育儿",
    "宠物",
    "园艺",
    "美妆",
    "手作",
]
WORDS_EN = [
    "coffee",
    "tea",
    "running",
    "fitness",
    "photo",
    "travel",
    "books",
    "movies",
    "music",
    "baking",
    "camping",
    "skiing",
    "swim",
    "coding",
    "invest",
    "parenting",
    "pets",
    "garden",
    "makeup",
    "craft",
]


def bench_config() -> CommunityConfig:
    lines = ["tags:", "  interests:"]
    for i in range(INTERESTS):
        words = (
            [f"{WORDS_ZH[i]}{k}号" for k in range(5)]
            + [f"{WORDS_EN[i]}{k}x" for k in range(4)]
            + [WORDS_EN[i]]
        )
        lines.append(f"    i{i}: [{', '.join(words)}]")
    lines += [
        "  rules:",
        "    - tag: chatty",
        "      metric: messages",
        "      at_least: 3",
        "      days: 7",
    ]
    return parse_config(CONFIG_YAML + "\n".join(lines) + "\n", "bench/bench_lifecycle.py")


async def seed(db: Database, members: int, rng: random.Random) -> None:
    now = VIRTUAL_START
    today = now.date()
    rows, stints, activity = [], [], []
    for uid in range(1, members + 1):
        first = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1439))
        last = (
            None
            if rng.random() < 0.2
            else max(first, now - timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1439)))
        )
        rows.append(
            {
                "user_id": uid,
                "first_name": f"M{uid}",
                "dm_allowed": rng.random() < 0.6,
                "first_seen_at": first,
                "last_seen_at": last,
            }
        )
        stints.append({"chat_id": COMMUNITY, "user_id": uid, "joined_at": first})
        if rng.random() < 0.2:
            for back in rng.sample(range(7), rng.randint(1, 4)):
                activity.append(
                    {
                        "chat_id": COMMUNITY,
                        "user_id": uid,
                        "day": today - timedelta(days=back),
                        "messages": rng.randint(1, 3),
                    }
                )
    for table, batch in ((Member, rows), (Membership, stints), (ActivityDaily, activity)):
        for start in range(0, len(batch), CHUNK):
            async with db.transaction() as session:
                await session.execute(insert(table), batch[start : start + CHUNK])


class Wiring:
    """The config compiled once (engine, renderer), as the running bot holds it."""

    def __init__(self, config: CommunityConfig) -> None:
        self.config = config
        self.engine = engine_for(config)
        self.renderer = build_renderer(config, Path("."))

    def services(self, session: AsyncSession) -> Services:
        return Services.create(
            session,
            self.config,
            self.engine,
            self.renderer,
            BotIdentity(1, "bench"),
            Path("."),
        )


async def timed_read(db: Database, config: CommunityConfig) -> float:
    lifecycle = config.tags.lifecycle
    started = time.perf_counter()
    async with db.transaction() as session:
        stage = stage_expression(
            VIRTUAL_START, new=lifecycle.new, silent=lifecycle.silent, churned=lifecycle.churned
        )
        await session.execute(select(stage, func.count()).group_by(stage))
    return time.perf_counter() - started


async def daily_pass(backend: str, pg_url: str | None, members: int) -> list[str]:
    config = bench_config()
    wiring = Wiring(config)
    async with scratch_database(backend, pg_url) as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            await seed(db, members, random.Random(11))
            read = min([await timed_read(db, config) for _ in range(3)])
            at = VIRTUAL_START + timedelta(hours=2)  # 11:00 Shanghai: after daily_at
            started = time.perf_counter()
            async with db.transaction() as session:
                first = await wiring.services(session).lifecycle.daily_pass(at)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            async with db.transaction() as session:
                second = await wiring.services(session).lifecycle.daily_pass(at + timedelta(days=1))
            day = time.perf_counter() - started
        finally:
            await db.dispose()
    assert first is not None and second is not None
    return [
        backend,
        str(members),
        str(first.moved),
        fmt(cold, 2),
        fmt(members / cold, 0),
        str(second.moved),
        fmt(day, 2),
        fmt(members / day, 0),
        fmt(read, 3),
        ratio(day, read),
        f"{first.rules['chatty'][0]}",
    ]


def texts(rng: random.Random, count: int) -> list[str]:
    filler = [
        "今天天气不错",
        "大家好",
        "有人知道怎么报名吗",
        "thanks all",
        "see you tomorrow",
        "我觉得这个活动很好",
        "where is the link?",
        "哈哈哈",
    ]
    out = []
    for _ in range(count):
        words = rng.sample(filler, 3)
        if rng.random() < 0.3:
            words.insert(1, rng.choice(WORDS_ZH + WORDS_EN))
        out.append("，".join(words))
    return out


async def per_message(backend: str, pg_url: str | None, messages: int) -> list[list[str]]:
    """Baseline and tagged handling alternate message by message (paired: the machine's load
    hits both alike); per-message times, medians and means."""
    wiring = Wiring(bench_config())
    rng = random.Random(5)
    batch = texts(rng, messages)
    authors = [rng.randint(1, 1000) for _ in range(messages)]
    times: dict[bool, list[float]] = {False: [], True: []}
    async with scratch_database(backend, pg_url) as url:
        db = Database(url)
        try:
            await upgrade(db.engine)
            await seed(db, 2000, random.Random(3))  # 1-1000 baseline, 1001-2000 tagged
            async with db.transaction() as session:  # every member has a stage, as in a run
                assert (
                    await wiring.services(session).lifecycle.daily_pass(
                        VIRTUAL_START + timedelta(hours=2)
                    )
                    is not None
                )  # 11:00, after daily_at
            for i, (author, text) in enumerate(zip(authors, batch, strict=True)):
                now = VIRTUAL_START + timedelta(hours=3, seconds=i)
                for with_tags in (False, True) if i % 2 else (True, False):
                    # the tagged run: the same story by a twin (no state shared with the baseline)
                    uid = author + 1000 if with_tags else author
                    message = GroupMessage(
                        chat_id=COMMUNITY,
                        message_id=i + 1,
                        person=Person(uid, f"M{uid}"),
                        text=text,
                        sent_at=now,
                    )
                    started = time.perf_counter()
                    async with db.transaction() as session:
                        s = wiring.services(session)
                        seen = await s.ledger.record_message(COMMUNITY, message.person, now, now)
                        if with_tags:
                            await s.lifecycle.on_message(message, now, seen_before=seen)
                    times[with_tags].append((time.perf_counter() - started) * 1e6)
        finally:
            await db.dispose()
    base_p50, tag_p50 = percentile(times[False], 50), percentile(times[True], 50)
    base_mean, tag_mean = statistics.fmean(times[False]), statistics.fmean(times[True])
    return [
        [backend, "ledger only (baseline)", fmt(base_p50, 0), fmt(base_mean, 0), "1.00"],
        [
            backend,
            "ledger + lifecycle/interests",
            fmt(tag_p50, 0),
            fmt(tag_mean, 0),
            ratio(tag_p50, base_p50),
        ],
        [backend, "added by tagging", fmt(tag_p50 - base_p50, 0), fmt(tag_mean - base_mean, 0), ""],
    ]


def matcher_only(count: int) -> list[str]:
    config = bench_config()
    engine = engine_for(config)
    batch = texts(random.Random(9), count)
    started = time.perf_counter()
    for text in batch:
        normalize(text)
    floor = (time.perf_counter() - started) / count * 1e6
    started = time.perf_counter()
    hits = sum(bool(engine.interests_in(text)) for text in batch)
    match = (time.perf_counter() - started) / count * 1e6
    return [str(count), str(hits), fmt(floor, 1), fmt(match, 1), ratio(match, floor)]


def main() -> int:
    args = parser(__doc__ or "").parse_args()
    quiet_logging()
    members = 20_000 if args.quick else 100_000
    messages = 500 if args.quick else 2_000
    print(f"lifecycle pass · {machine()}")
    rows = [asyncio.run(daily_pass(backend, args.pg, members)) for backend in backends(args.pg)]
    print_table(
        [
            "db",
            "members",
            "first moved",
            "first s",
            "members/s",
            "day moved",
            "day s",
            "members/s",
            "read s",
            "day÷read",
            "chatty",
        ],
        rows,
    )
    print("\nincremental tagging per community message (own transaction each, µs)")
    per = [
        row
        for backend in backends(args.pg)
        for row in asyncio.run(per_message(backend, args.pg, messages))
    ]
    print_table(["db", "work", "p50 µs", "mean µs", "p50 ÷ baseline"], per)
    print("\ninterest matcher alone (20 interests, 200 keywords), µs per message")
    print_table(
        ["messages", "with an interest", "normalize µs", "match µs", "÷ normalize"],
        [matcher_only(5000)],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
