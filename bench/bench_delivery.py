"""Outbound delivery at Telegram's limits: the real bot against the sandbox, and two naive peers.

    .venv/bin/python bench/bench_delivery.py [--quick] [--pg [URL]] [--dm N] [--group M]

1. DM throughput, real time: N outbox rows to N distinct private chats, sent by SopBot
   (SystemClock) through the sandbox, which enforces Telegram's limits in real time.
2. The same N messages sent by a plain aiogram Bot, with no limiter: a loop awaiting each
   ``send_message`` in turn, then one ``asyncio.gather`` of them all. Each on a fresh sandbox.
3. A group burst, virtual time: M rows to the one community group; the bot and the sandbox share
   a ManualClock stepped one second at a time (the real limit would take minutes of real time).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

import _common as c
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import ChatKind, OutboxMessage
from bot.db.repositories import OutboxRepository
from bot.idle import wait_idle
from sandbox import TelegramSandbox
from sop.clock import ManualClock

FIRST_USER = 100_000
PURPOSE = "bench"


@dataclass
class Run(c.SendRun):
    """``elapsed``: hand-over (rows committed / first call) until the job was done."""

    latencies: list[float] = field(default_factory=list)  # outbox created_at -> sent_at
    note: str = ""

    @property
    def span(self) -> float:
        return max(self.send_times) - min(self.send_times) if len(self.send_times) > 1 else 0.0


def dm_text(i: int) -> str:
    return f"Benchmark message {i}: your weekly digest is ready."


def private_users(sandbox: TelegramSandbox, n: int) -> list[int]:
    """N users who each wrote to the bot once, so Telegram (the sandbox) lets it DM them."""
    users = list(range(FIRST_USER, FIRST_USER + n))
    for uid in users:
        sandbox.add_user(uid, f"U{uid}")
        sandbox.user_sends(uid, "hi")
    return users


def seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


# -- 1. the bot, real time ------------------------------------------------------------------------


async def sopbot_dms(n: int, backend: str, pg_url: str | None) -> Run:
    sandbox = c.new_sandbox()  # real time
    users = private_users(sandbox, n)
    async with c.scratch_database(backend, pg_url) as db_url, c.serving(sandbox) as url:
        app = SopBot(c.settings(url, db_url), c.community_config(), polling_timeout=1)
        await app.start()
        try:
            await wait_idle(app, sandbox.pending_updates, timeout=120)  # the "hi"s: ledger only
            if sandbox.sent_messages():
                raise RuntimeError("the bot sent messages before the benchmark began")
            enqueue_started = time.perf_counter()
            async with app.db.transaction() as session:
                repo = OutboxRepository(session)
                for i, uid in enumerate(users):
                    await repo.enqueue(
                        key=f"bench:dm:{uid}",
                        chat_id=uid,
                        chat_kind=ChatKind.PRIVATE,
                        purpose=PURPOSE,
                        payload={"text": dm_text(i)},
                        now=app.clock.now(),
                    )
            handed_over = time.time()  # the sandbox stamps sends with time.time() too
            enqueue_s = time.perf_counter() - enqueue_started
            app.delivery.wake()
            limits = sandbox.limits
            budget = 3 * c.fastest_drain(n, limits.global_per_second, limits.global_window) + 30
            await c.wait_until(
                lambda: len(sandbox.sent_messages()) >= n, budget, f"{n} DMs sent by the bot"
            )
            done = max(m.at for m in sandbox.sent_messages())
            await wait_idle(app, sandbox.pending_updates, timeout=60)
            async with app.sessions() as session:
                rows = (
                    (
                        await session.execute(
                            select(OutboxMessage).where(OutboxMessage.purpose == PURPOSE)
                        )
                    )
                    .scalars()
                    .all()
                )
        finally:
            await app.stop()
    latencies = [seconds(r.created_at, r.sent_at) for r in rows if r.sent_at is not None]
    return Run(
        f"sopbot ({backend})",
        n,
        len(sandbox.sent_messages()),
        sandbox.count_errors(429),
        sandbox.early_retries,
        done - handed_over,
        [m.at for m in sandbox.sent_messages()],
        latencies,
        note=f"enqueue of {n} rows in one transaction: {enqueue_s * 1000:.0f} ms",
    )


# -- 2. naive peers, real time --------------------------------------------------------------------


async def naive_dms(n: int, how: str) -> Run:
    sandbox = c.new_sandbox()
    users = private_users(sandbox, n)
    async with c.serving(sandbox) as url:
        bot = Bot(c.TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
        try:
            await bot.get_me()  # one connection open, as the bot has at start
            started = time.time()
            if how == "loop":
                for i, uid in enumerate(users):
                    with contextlib.suppress(Exception):  # a naive loop drops what fails
                        await bot.send_message(uid, dm_text(i))
            else:
                await asyncio.gather(
                    *(bot.send_message(uid, dm_text(i)) for i, uid in enumerate(users)),
                    return_exceptions=True,
                )
            finished = time.time()
        finally:
            await bot.session.close()
    sent = [m.at for m in sandbox.sent_messages()]
    name = "naive await loop" if how == "loop" else "naive asyncio.gather"
    return Run(
        name,
        n,
        len(sent),
        sandbox.count_errors(429),
        sandbox.early_retries,
        max([finished, *sent]) - started,
        sent,
    )


# -- 3. group burst, virtual time -----------------------------------------------------------------


@dataclass
class GroupRun:
    backend: str
    wanted: int
    times: list[float]
    in_order: bool
    answered_429: int
    early_retries: int
    steps: int
    real_seconds: float
    per_window: int
    window: float


async def sopbot_group_burst(m: int, backend: str, pg_url: str | None) -> GroupRun:
    clock = ManualClock(c.VIRTUAL_START)
    sandbox = c.new_sandbox(clock.timestamp)
    async with c.scratch_database(backend, pg_url) as db_url, c.serving(sandbox) as url:
        app = SopBot(c.settings(url, db_url), c.community_config(), clock=clock, polling_timeout=1)
        await app.start()
        try:
            await wait_idle(app, sandbox.pending_updates)
            async with app.db.transaction() as session:
                repo = OutboxRepository(session)
                for i in range(m):
                    await repo.enqueue(
                        key=f"bench:group:{i}",
                        chat_id=c.COMMUNITY,
                        chat_kind=ChatKind.GROUP,
                        purpose=PURPOSE,
                        payload={"text": f"Group post {i}"},
                        now=clock.now(),
                    )
            app.delivery.wake()
            limits = sandbox.limits
            max_steps = (
                3 * int(c.fastest_drain(m, limits.group_per_minute, limits.group_window)) + 300
            )
            started = time.perf_counter()
            steps = 0
            while True:
                await wait_idle(app, sandbox.pending_updates, timeout=60)
                if len(sandbox.sent_messages(c.COMMUNITY)) >= m:
                    break
                if steps >= max_steps:
                    raise TimeoutError(
                        f"group burst: {len(sandbox.sent_messages(c.COMMUNITY))}"
                        f" of {m} sent after {steps} virtual seconds"
                    )
                clock.advance(seconds=1)
                steps += 1
            real = time.perf_counter() - started
        finally:
            await app.stop()
    sent = sandbox.sent_messages(c.COMMUNITY)
    return GroupRun(
        backend,
        m,
        [s.at for s in sent],
        [s.text for s in sent] == [f"Group post {i}" for i in range(m)],
        sandbox.count_errors(429),
        sandbox.early_retries,
        steps,
        real,
        sandbox.limits.group_per_minute,
        sandbox.limits.group_window,
    )


# -- report ---------------------------------------------------------------------------------------


def report_dms(n: int, bots: list[Run], peers: list[Run], limit: int, window: float) -> None:
    print(f"\n1+2. DM throughput: {n} messages to {n} distinct private chats, real time")
    print(
        f"     Telegram's limit (as the sandbox enforces it): {limit} messages per "
        f"{window:g} s for the whole bot; 1 per second per private chat"
    )
    print(
        "     elapsed = from hand-over (outbox rows committed / first call made) until the job "
        "was done;\n     msg/s = delivered / elapsed; peak = most deliveries in any "
        f"{window:g} s window\n"
    )
    per_second = limit / window
    headers = [
        "sender",
        "delivered",
        "lost",
        "429s",
        "early retries",
        "elapsed s",
        "msg/s",
        "msg/s ÷ limit",
        "peak/1s",
        "peak ÷ limit",
    ]
    rows = []
    for run in [*bots, *peers]:
        peak = c.max_in_window(run.send_times, window) if run.send_times else 0
        rows.append(
            [
                run.name,
                str(run.delivered),
                str(run.lost),
                str(run.answered_429),
                str(run.early_retries),
                c.fmt(run.elapsed, 2),
                c.fmt(run.rate),
                c.ratio(run.rate, per_second),
                str(peak),
                c.ratio(peak, limit),
            ]
        )
    c.print_table(headers, rows)
    for run in bots:
        fastest = c.fastest_drain(n, limit, window)
        print(
            f"\n     {run.name}: first→last send {run.span:.2f} s; the fastest the limit allows "
            f"for {n} is {fastest:.2f} s (ratio {c.ratio(fastest, run.span)}); {run.note}"
        )
        print(
            f"       queue-to-send latency (outbox created_at → sent_at, {len(run.latencies)} "
            f"rows): p50 {c.percentile(run.latencies, 50):.2f} s, "
            f"p95 {c.percentile(run.latencies, 95):.2f} s, "
            f"max {c.percentile(run.latencies, 100):.2f} s"
        )
    print("\n     sopbot against each peer (sopbot ÷ peer):")
    headers = ["", "delivered", "msg/s", "lost (sopbot, peer)", "429s (sopbot, peer)"]
    rows = [
        [
            f"{bot.name} vs {peer.name}",
            c.ratio(bot.delivered, peer.delivered),
            c.ratio(bot.rate, peer.rate),
            f"{bot.lost}, {peer.lost}",
            f"{bot.answered_429}, {peer.answered_429}",
        ]
        for bot in bots
        for peer in peers
    ]
    c.print_table(headers, rows)


def report_group(m: int, runs: list[GroupRun]) -> None:
    first = runs[0]
    print(
        f"\n3. Group burst: {m} messages to one group, virtual time (ManualClock shared by the "
        "bot and the sandbox,\n   advanced 1 s per step once the bot is idle); "
        f"limit {first.per_window} per {first.window:g} s per group\n"
    )
    fastest = c.fastest_drain(m, first.per_window, first.window)
    headers = [
        "backend",
        "sent",
        "in order",
        "max/60s",
        "max ÷ limit",
        "429s",
        "early retries",
        "first→last s",
        "fastest s",
        "fastest ÷ actual",
        "msgs/min",
        "real s",
    ]
    rows = []
    for run in runs:
        span = max(run.times) - min(run.times) if len(run.times) > 1 else 0.0
        peak = c.max_in_window(run.times, run.window)
        # messages per minute over the minutes the burst occupied (first send .. last window end)
        per_minute = len(run.times) / (span + run.window) * 60
        rows.append(
            [
                run.backend,
                str(len(run.times)),
                "yes" if run.in_order else "NO",
                str(peak),
                c.ratio(peak, run.per_window),
                str(run.answered_429),
                str(run.early_retries),
                c.fmt(span),
                c.fmt(fastest),
                c.ratio(fastest, span),
                c.fmt(per_minute),
                c.fmt(run.real_seconds),
            ]
        )
    c.print_table(headers, rows)
    print(
        "   msgs/min = sent / (first→last + one window) × 60, to compare with the limit of "
        f"{first.per_window}/min"
    )


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--dm", type=int, metavar="N", help="DMs to send (default 600, quick 150)")
    p.add_argument("--group", type=int, metavar="M", help="group messages (default 200, quick 60)")
    args = p.parse_args()
    c.quiet_logging()
    n = args.dm or (150 if args.quick else 600)
    m = args.group or (60 if args.quick else 200)
    print(f"bench_delivery — {c.machine()}")
    print(
        f"backends: {', '.join(c.backends(args.pg))}; N={n} DMs, M={m} group messages"
        f"{' (quick)' if args.quick else ''}"
    )
    wall = time.perf_counter()

    bots = [await sopbot_dms(n, backend, args.pg) for backend in c.backends(args.pg)]
    peers = [await naive_dms(n, "loop"), await naive_dms(n, "gather")]
    limits = c.new_sandbox().limits
    report_dms(n, bots, peers, limits.global_per_second, limits.global_window)

    groups = [await sopbot_group_burst(m, backend, args.pg) for backend in c.backends(args.pg)]
    report_group(m, groups)
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
