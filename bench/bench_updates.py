"""Inbound update handling cost: the real bot polling the sandbox, against aiogram's floor.

    .venv/bin/python bench/bench_updates.py [--quick] [--pg [URL]] [-k K]

K updates (a seeded mix: members talking in the community, joins, ``/start src_x`` in private)
are injected into the sandbox at once; the clock is from injection until the bot is idle again
(``bot.idle.wait_idle``: nothing queued at the server, nothing being handled).

What is measured is the ledger work only: the bot runs on a ManualClock that never moves (no
group greeting falls due) and its delivery loop is replaced by a stand-in that sends nothing, so
the gift DMs that ``/start`` queues are written to the outbox inside the update's transaction
(measured) but never sent (not measured). Group joins wake the welcome planner, whose
transaction is measured too.

The peer is the framework's floor: the same K updates (same world, same script) through a bare
aiogram Dispatcher with a no-op handler, polling a fresh sandbox with the same polling settings.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass

import _common as c
from aiogram import Router
from sqlalchemy import func, select

from bot.app import SopBot
from bot.db.models import Coupon, Member, Membership, OutboxMessage, ProcessedUpdate
from bot.idle import wait_idle
from sandbox import TelegramSandbox
from sop.clock import ManualClock

SEED = 20261121
MEMBERS = 200  # already in the community before the run; each talks once to warm up
FIRST_MEMBER, FIRST_NEWCOMER = 200_000, 300_000
#: relative weights of the actions in the measured mix (a join is two updates)
MIX = {"say": 60, "join": 25, "start": 15}
UPDATES_PER = {"say": 1, "join": 2, "start": 1}
CHANNELS = ["douyin", "xhs", "wechat", "bilibili"]
CHATTER = [
    "大家好！",
    "请问优惠券怎么用？",
    "今晚几点开始？",
    "谢谢分享 👍",
    "Hi all!",
    "Where is the beginner's guide?",
    "Great session today",
    "收到，感谢",
]
POLLING_TIMEOUT = 1
CONCURRENCY = 64  # what SopBot passes as tasks_concurrency_limit
FLOOR_RUNS = 3  # the floor is cheap and noisy: its median is the reference


@dataclass(frozen=True)
class Action:
    kind: str  # say | join | start
    uid: int
    text: str = ""


def script(k: int) -> tuple[list[Action], list[Action]]:
    """The warm-up (each member says something once) and the measured K updates."""
    rng = random.Random(SEED)
    warmup = [Action("say", FIRST_MEMBER + i, rng.choice(CHATTER)) for i in range(MEMBERS)]
    talkers = [a.uid for a in warmup]
    actions: list[Action] = []
    left, newcomer = k, FIRST_NEWCOMER
    while left > 0:
        kind = rng.choices(list(MIX), list(MIX.values()))[0]
        if UPDATES_PER[kind] > left:
            kind = "say"
        if kind == "say":
            actions.append(Action("say", rng.choice(talkers), rng.choice(CHATTER)))
        elif kind == "join":
            actions.append(Action("join", newcomer))
            talkers.append(newcomer)
            newcomer += 1
        else:
            actions.append(Action("start", newcomer, f"/start src_{rng.choice(CHANNELS)}"))
            newcomer += 1
        left -= UPDATES_PER[kind]
    return warmup, actions


def world(sandbox: TelegramSandbox) -> None:
    for i in range(MEMBERS):
        uid = FIRST_MEMBER + i
        sandbox.add_user(uid, f"M{uid}", language_code="zh-hans" if i % 3 else "en")
        sandbox.set_admin(c.COMMUNITY, uid, "member")


def inject(sandbox: TelegramSandbox, actions: list[Action]) -> int:
    """Queue the actions' updates; return how many updates that made."""
    before = sandbox.pending_updates()
    for action in actions:
        if action.kind == "say":
            sandbox.user_sends(action.uid, action.text, chat_id=c.COMMUNITY)
        elif action.kind == "join":
            sandbox.add_user(action.uid, f"J{action.uid}")
            sandbox.user_joins(c.COMMUNITY, action.uid)
        else:
            sandbox.add_user(action.uid, f"S{action.uid}", language_code="zh-hans")
            sandbox.user_sends(action.uid, action.text)
    return sandbox.pending_updates() - before


class NoDelivery:
    """Stands in for ``SopBot.delivery``: takes wake-ups, sends nothing, is always idle."""

    held = 0

    def __init__(self) -> None:
        self._stopped = asyncio.Event()

    def wake(self) -> None:
        pass

    async def run(self) -> None:
        await self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()

    async def abort(self) -> None:
        self._stopped.set()

    async def is_idle(self) -> bool:
        return True


@dataclass
class Result:
    name: str
    updates: int
    elapsed: float  # injection start .. idle again
    inject: float  # of which: queueing the updates in the sandbox
    detail: str = ""

    @property
    def per_second(self) -> float:
        return self.updates / self.elapsed

    @property
    def ms_each(self) -> float:
        return self.elapsed / self.updates * 1000


async def sopbot_run(k: int, backend: str, pg_url: str | None) -> Result:
    warmup, actions = script(k)
    clock = ManualClock(c.VIRTUAL_START)  # never advanced
    sandbox = c.new_sandbox(clock.timestamp)
    world(sandbox)
    async with c.scratch_database(backend, pg_url) as db_url, c.serving(sandbox) as url:
        app = SopBot(
            c.settings(url, db_url),
            c.community_config(),
            clock=clock,
            polling_timeout=POLLING_TIMEOUT,
        )
        app.delivery = NoDelivery()  # type: ignore[assignment]
        await app.start()
        try:
            inject(sandbox, warmup)
            await wait_idle(app, sandbox.pending_updates, timeout=120)
            started = time.perf_counter()
            injected = inject(sandbox, actions)
            injected_at = time.perf_counter()
            await wait_idle(app, sandbox.pending_updates, timeout=600)
            elapsed = time.perf_counter() - started
            async with app.sessions() as session:

                async def count(model: type) -> int:
                    return int(
                        (
                            await session.execute(select(func.count()).select_from(model))
                        ).scalar_one()
                    )

                handled = await count(ProcessedUpdate)
                detail = (
                    f"ledger afterwards: {handled} updates recorded as handled "
                    f"({len(warmup)} warm-up + {injected}), {await count(Member)} members, "
                    f"{await count(Membership)} stints, {await count(Coupon)} coupons, "
                    f"{await count(OutboxMessage)} outbox rows queued (not sent)"
                )
        finally:
            await app.stop()
    if handled != len(warmup) + injected:
        raise RuntimeError(
            f"sopbot ({backend}): {handled} updates handled, {len(warmup) + injected} injected"
        )
    return Result(f"sopbot ({backend})", injected, elapsed, injected_at - started, detail)


async def floor_run(k: int) -> Result:
    warmup, actions = script(k)
    clock = ManualClock(c.VIRTUAL_START)
    sandbox = c.new_sandbox(clock.timestamp)
    world(sandbox)
    handled = 0

    async def noop(_: object) -> None:
        nonlocal handled
        handled += 1

    router = Router(name="noop")
    for observer in (
        router.message,
        router.chat_member,
        router.my_chat_member,
        router.chat_join_request,
        router.callback_query,
    ):
        observer.register(noop)
    async with c.bare_polling(
        sandbox, router, polling_timeout=POLLING_TIMEOUT, concurrency=CONCURRENCY
    ):
        warm = inject(sandbox, warmup)
        await c.wait_until(lambda: handled == warm, 60, "warm-up through the bare dispatcher")
        started = time.perf_counter()
        injected = inject(sandbox, actions)
        injected_at = time.perf_counter()
        await c.wait_until(
            lambda: handled == warm + injected, 300, "updates through the bare dispatcher"
        )
        elapsed = time.perf_counter() - started
    return Result("aiogram, no-op handler", injected, elapsed, injected_at - started)


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("-k", type=int, metavar="K", help="updates to inject (default 2000, quick 500)")
    args = p.parse_args()
    c.quiet_logging()
    k = args.k or (500 if args.quick else 2000)
    _, actions = script(k)
    kinds = Counter(a.kind for a in actions)
    print(f"bench_updates — {c.machine()}")
    print(
        f"K={k} updates{' (quick)' if args.quick else ''}: {kinds['say']} member messages in "
        f"the community, {kinds['join']} joins (chat_member + service message each), "
        f"{kinds['start']} '/start src_x' in private; after a warm-up of {MEMBERS} messages"
    )
    print(
        "measured: from injecting the K updates until the bot is idle again (wait_idle); "
        "the ledger work only —\n  virtual clock frozen (no greeting falls due), delivery "
        "replaced by a stand-in (queued DMs are written, not sent)"
    )
    print(
        f"polling: getUpdates timeout {POLLING_TIMEOUT} s, tasks_concurrency_limit "
        f"{CONCURRENCY}, both runs\n"
    )
    wall = time.perf_counter()
    bots = [await sopbot_run(k, backend, args.pg) for backend in c.backends(args.pg)]
    floors = sorted([await floor_run(k) for _ in range(FLOOR_RUNS)], key=lambda r: r.elapsed)
    floor = floors[len(floors) // 2]
    floor.name = f"aiogram, no-op handler (median of {FLOOR_RUNS})"

    headers = [
        "handler",
        "updates",
        "elapsed s",
        "of which inject s",
        "updates/s",
        "ms/update",
        "ms/update ÷ floor",
    ]
    rows = [
        [
            r.name,
            str(r.updates),
            c.fmt(r.elapsed, 2),
            c.fmt(r.inject, 3),
            c.fmt(r.per_second),
            c.fmt(r.ms_each, 2),
            c.ratio(r.ms_each, floor.ms_each),
        ]
        for r in [*bots, floor]
    ]
    c.print_table(headers, rows)
    print(f"  floor runs: {', '.join(c.fmt(f.ms_each, 2) for f in floors)} ms/update")
    for r in bots:
        print(f"  {r.name}: {r.detail}")
        print(
            f"  {r.name}: {r.ms_each - floor.ms_each:.2f} ms per update above the framework "
            "floor (the bot's own work)"
        )
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
