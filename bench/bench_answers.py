"""How fast the bot answers while a loop works over every member: the value-tier pass that runs
at start over N members (default 100,000; --quick 10,000), seeded as ``bench_day_memory`` seeds
them (every one due a ``tier:potential`` tag, so the pass writes N tags and N history rows).

The real bot against the sandbox over HTTP, on a virtual clock at 09:00 in Shanghai (outside
quiet hours). While the pass runs, a fresh user sends ``/start`` every second and the time to
the bot's first message to them is noted; then, the pass over, the same again on the idle bot
(the peer, same run, same process). Printed: the pass's seconds, answers during it and after
(p50, max) and the ratio of the two.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
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
)
from bench_day_memory import seed

from bot.app import SopBot
from sandbox import TelegramSandbox
from sop.clock import ManualClock

IDLE_SAMPLES = 20


async def ask(sandbox: TelegramSandbox, clock: ManualClock, uid: int) -> float:
    """``/start`` from a new user a virtual second after the last one (the send limiter's
    budget is on the virtual clock); seconds until the bot's first message to them."""
    clock.advance(seconds=1)
    sandbox.add_user(uid, f"P{uid}", language_code="en")
    started = time.perf_counter()
    sandbox.user_sends(uid, "/start")
    while not sandbox.sent_messages(chat_id=uid):
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"/start from {uid} not answered in 600 s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def until_done(app: SopBot, clock: ManualClock) -> float:
    """When the value-tier loop is no longer busy (its start-up pass over)."""
    ticker = app.tickers["value tiers"]
    while True:  # the ticker has no event for it: looked at every 10 ms
        if not ticker.busy(clock.now()):
            return time.perf_counter()
        await asyncio.sleep(0.01)


async def run(backend: str, pg_url: str | None, members: int) -> list[str]:
    async with scratch_database(backend, pg_url) as url:
        await seed(url, members)
        clock = ManualClock(VIRTUAL_START)
        sandbox = new_sandbox(clock.timestamp)
        async with serving(sandbox) as api:
            app = SopBot(settings(api, url), community_config(), clock=clock, polling_timeout=1)
            started = time.perf_counter()
            await app.start()
            uid = 500_000
            during: list[float] = []
            try:
                await asyncio.sleep(0.05)  # the loops' first ticks begin
                ended = asyncio.create_task(until_done(app, clock))
                while not ended.done():
                    uid += 1
                    during.append(await ask(sandbox, clock, uid))
                    await asyncio.wait({ended}, timeout=1.0)
                passed = await ended - started
                idle = []
                for _ in range(IDLE_SAMPLES):
                    uid += 1
                    idle.append(await ask(sandbox, clock, uid))
                    await asyncio.sleep(0.2)
            finally:
                await app.stop()
    p50 = statistics.median(during) if during else float("nan")
    return [
        backend,
        f"{members:,}",
        fmt(passed),
        str(len(during)),
        fmt(p50, 2),
        fmt(max(during, default=float("nan")), 2),
        fmt(statistics.median(idle), 2),
        fmt(max(idle), 2),
        ratio(p50, statistics.median(idle)),
    ]


async def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--members", type=int, default=None, help="members seeded (default 100,000)")
    args = p.parse_args()
    members = args.members or (10_000 if args.quick else 100_000)
    quiet_logging()
    print(f"bench_answers — {machine()}")
    print(
        f"/start answered (s) while the start-up value-tier pass tags {members:,} members, "
        "and on the idle bot afterwards (the peer)"
    )
    rows = [await run(backend, args.pg, members) for backend in backends(args.pg)]
    print_table(
        [
            "db",
            "members",
            "pass s",
            "asked",
            "during p50",
            "during max",
            "idle p50",
            "idle max",
            "p50 ÷ idle",
        ],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
