"""Ingest, black box: a burst of group chatter, then a hook keyword; the time until its reply.

    .venv/bin/python bench/bench_ingest.py [--quick] [--pg [URL]] [-n N] [--runs R]

300 members (each has spoken once before, not measured) send N messages (default 3,000; quick
600) to the community, all queued at once in the sandbox, then one member sends the hook keyword
``666``. Measured: from queueing the first message until the sandbox records the hook's reply in
the group, for the real bot (``SopBot``, real clock, real delivery loop) and for a bare aiogram
bot (polling with ``Dispatcher.start_polling``, a no-op handler, and ``send_message`` on the
keyword) on a fresh sandbox with the same polling settings. msg/s = (N + 1) / that time; the
ratio sopbot ÷ aiogram is taken pair by pair: each sopbot run comes right after a run of the
peer of its own (the machine's load moves between runs; a pair shares it). The messages are a
seeded mix of plain chatter (no question, no hook word); the ledger is checked afterwards (every
message counted).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from typing import Any

import _common as c
import yaml
from aiogram import Bot, Router
from aiogram.types import Message
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ActivityDaily, ProcessedUpdate
from bot.idle import wait_idle
from sandbox import TelegramSandbox

SEED = 20261206
MEMBERS = 300
FIRST_MEMBER = 400_000
KEYWORD = "666"
CHATTER = [
    "大家好！",
    "谢谢分享 👍",
    "收到，感谢",
    "Hi all!",
    "Great session today",
    "今天的直播太棒了",
    "我也觉得不错",
    "good morning everyone",
]
POLLING_TIMEOUT = 1
CONCURRENCY = 64  # the bare dispatcher's tasks_concurrency_limit


def config() -> CommunityConfig:
    data: dict[str, Any] = yaml.safe_load(c.CONFIG_YAML)
    data["hooks"] = [{"id": "guide", "keywords": [KEYWORD], "template": "guide"}]
    return parse_config(yaml.safe_dump(data, allow_unicode=True), "bench/bench_ingest.py")


def world() -> TelegramSandbox:
    sandbox = c.new_sandbox()  # real time: the delivery loop and the peer run on it
    for i in range(MEMBERS):
        uid = FIRST_MEMBER + i
        sandbox.add_user(uid, f"M{uid}", language_code="zh-hans" if i % 3 else "en")
        sandbox.set_admin(c.COMMUNITY, uid, "member")
    return sandbox


def burst(n: int) -> list[tuple[int, str]]:
    rng = random.Random(SEED)
    return [(FIRST_MEMBER + rng.randrange(MEMBERS), rng.choice(CHATTER)) for _ in range(n)]


def warm_up(sandbox: TelegramSandbox) -> int:
    for i in range(MEMBERS):
        sandbox.user_sends(FIRST_MEMBER + i, "hi", chat_id=c.COMMUNITY)
    return MEMBERS


async def measure(sandbox: TelegramSandbox, n: int) -> float:
    """Queues the burst and the keyword; seconds until the reply is in the group."""
    before = len(sandbox.sent_messages(c.COMMUNITY))
    started = time.perf_counter()
    for uid, text in burst(n):
        sandbox.user_sends(uid, text, chat_id=c.COMMUNITY)
    sandbox.user_sends(FIRST_MEMBER, KEYWORD, chat_id=c.COMMUNITY)
    await c.wait_until(
        lambda: len(sandbox.sent_messages(c.COMMUNITY)) > before, 600, "the hook's reply"
    )
    return time.perf_counter() - started


async def sopbot_run(n: int, backend: str, pg_url: str | None) -> tuple[float, str]:
    sandbox = world()
    async with c.scratch_database(backend, pg_url) as db_url, c.serving(sandbox) as url:
        app = SopBot(c.settings(url, db_url), config(), polling_timeout=POLLING_TIMEOUT)
        await app.start()
        try:
            warm_up(sandbox)
            await wait_idle(app, sandbox.pending_updates, timeout=120)
            elapsed = await measure(sandbox, n)
            await wait_idle(app, sandbox.pending_updates, timeout=120)
            async with app.sessions() as session:
                handled = (
                    await session.execute(select(func.count()).select_from(ProcessedUpdate))
                ).scalar_one()
                counted = (
                    await session.execute(select(func.sum(ActivityDaily.messages)))
                ).scalar_one()
        finally:
            await app.stop()
    expected = MEMBERS + n + 1
    if handled != expected or counted != expected:
        raise RuntimeError(
            f"sopbot ({backend}): {handled} handled, {counted} counted of {expected}"
        )
    return elapsed, f"{handled} updates handled, {counted} messages counted"


async def floor_run(n: int) -> float:
    sandbox = world()
    handled = 0

    async def noop(message: Message, bot: Bot) -> None:
        nonlocal handled
        handled += 1
        if message.text == KEYWORD:
            await bot.send_message(message.chat.id, "guide", reply_to_message_id=message.message_id)

    router = Router(name="noop")
    router.message.register(noop)
    async with c.bare_polling(
        sandbox, router, polling_timeout=POLLING_TIMEOUT, concurrency=CONCURRENCY
    ):
        warm = warm_up(sandbox)
        await c.wait_until(lambda: handled == warm, 60, "warm-up through the bare dispatcher")
        elapsed = await measure(sandbox, n)
    return elapsed


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("-n", type=int, metavar="N", help="messages in the burst (default 3000)")
    p.add_argument("--runs", type=int, default=1, metavar="R", help="rounds (default 1)")
    args = p.parse_args()
    c.quiet_logging()
    n = args.n or (600 if args.quick else 3000)
    print(f"bench_ingest — {c.machine()}")
    print(
        f"{n} group messages from {MEMBERS} members (each spoke once before), then the hook "
        f"keyword {KEYWORD!r};\nmeasured: queueing the first message → the hook's reply "
        f"recorded by the sandbox; msg/s = {n + 1} / that\n"
    )
    headers = ["round", "bot", "seconds", "msg/s", "÷ the aiogram run just before"]
    rows: list[list[str]] = []
    ratios: dict[str, list[float]] = {}
    details: list[str] = []
    wall = time.perf_counter()
    for r in range(1, args.runs + 1):
        for backend in c.backends(args.pg):
            floor = await floor_run(n)
            rows.append(
                [str(r), "aiogram, no-op handler", c.fmt(floor, 3), c.fmt((n + 1) / floor), ""]
            )
            elapsed, detail = await sopbot_run(n, backend, args.pg)
            ratio = floor / elapsed
            ratios.setdefault(backend, []).append(ratio)
            rows.append(
                [
                    str(r),
                    f"sopbot ({backend})",
                    c.fmt(elapsed, 3),
                    c.fmt((n + 1) / elapsed),
                    f"{ratio:.2f}×",
                ]
            )
            details.append(f"  round {r}, {backend}: {detail}")
    c.print_table(headers, rows)
    print("\n".join(details))
    for backend, values in ratios.items():
        print(f"  sopbot ({backend}) ÷ aiogram: {', '.join(f'{v:.2f}×' for v in values)}")
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
