"""A segmented broadcast at Telegram's limits: the real bot against the sandbox, real time, and a
naive loop over ``send_message`` to the same members in the same run.

    .venv/bin/python bench/bench_broadcast.py [--quick] [--pg [URL]] [--members N]

1. sopbot: N members who started the bot (in the ledger and allowed by the sandbox); the operator
   replies to a message with ``/broadcast all`` in the bot's private chat and presses Send, as in
   Telegram. Measured from the Send press until the sandbox recorded the last member's copy:
   copies delivered, msg/s and its ratio to the global limit, the most sends in any 1 s window,
   429s, early retries, members who got a copy twice or never, the progress message's edits.
2. The naive peer: a plain aiogram ``Bot`` with no limiter, ``await bot.send_message`` to each
   member in turn (an error drops that member, as a script would), on a fresh sandbox.

Each sandbox is served from a process of its own (``_remote.py``), as Telegram is another
machine: its handling of each call is not done on the event loop of the sender it measures.

A full run (N = 10,000) takes about six minutes of real time per backend at 30 msg/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import _common as c
import _remote as _r
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import Member
from bot.db.upsert import insert_for
from bot.idle import wait_idle
from sandbox import TelegramSandbox

FIRST_USER = 200_000
TEXT = "Flash sale tonight: 20% off everything, 20:00–22:00."


@dataclass
class Run(c.SendRun):
    """``elapsed``: from the Send press (sopbot) / the first call (naive) to the last copy."""

    twice: int = 0
    edits: list[float] = field(default_factory=list)
    note: str = ""


# -- jobs run in the sandbox's process (see _remote.py) ------------------------------------------


def add_members(sandbox: TelegramSandbox, first: int, n: int) -> None:
    """N users the sandbox lets the bot DM (they started it earlier)."""
    for uid in range(first, first + n):
        sandbox.add_user(uid, f"U{uid}")
        sandbox.world.dm_allowed.add(uid)


def operator_says(sandbox: TelegramSandbox, text: str, reply_to: int | None) -> int:
    update = sandbox.user_sends(c.OPERATOR, text, reply_to_message_id=reply_to)
    return int(update["message"]["message_id"])


def preview_card(sandbox: TelegramSandbox) -> tuple[int, str] | None:
    """The card's message id and its Send button's data, once the bot showed it."""
    cards = [m for m in sandbox.sent_messages(c.OPERATOR) if "bc:send:" in str(m.reply_markup)]
    if not cards:
        return None
    data = str(cards[-1].reply_markup).split("'bc:send:")[1].split("'")[0]
    return cards[-1].message_id, data


def members_got_any(sandbox: TelegramSandbox) -> bool:
    return any(m.chat_id != c.OPERATOR for m in sandbox.sent_messages())


def press_send(sandbox: TelegramSandbox, message_id: int, data: str) -> None:
    sandbox.press_button(c.OPERATOR, message_id, c.OPERATOR, f"bc:send:{data}")


def tally_shown(sandbox: TelegramSandbox) -> bool:
    return any("finished" in m.text for m in sandbox.sent_messages(c.OPERATOR))


def recorded(sandbox: TelegramSandbox, first: int, n: int) -> dict[str, Any]:
    """What the sandbox recorded of the members' copies, the 429s and the progress edits."""
    return {
        "sent": [
            (m.chat_id, m.at) for m in sandbox.sent_messages() if first <= m.chat_id < first + n
        ],
        "429": sandbox.count_errors(429),
        "early": sandbox.early_retries,
        "edits": [
            call.at for call in sandbox.calls if call.method == "editMessageText" and call.ok
        ],
    }


def config(backlog: int | None) -> CommunityConfig:
    if backlog is None:
        return c.community_config()
    return parse_config(
        c.CONFIG_YAML + f"broadcasts:\n  backlog: {backlog}\n", "bench/bench_broadcast.py"
    )


# -- the two senders ---------------------------------------------------------------------------


async def sopbot_broadcast(
    n: int, backend: str, pg_url: str | None, backlog: int | None = None
) -> Run:
    with _r.RemoteSandbox() as sandbox:  # real time
        sandbox.call(add_members, FIRST_USER, n)
        users = list(range(FIRST_USER, FIRST_USER + n))
        async with c.scratch_database(backend, pg_url) as db_url:
            app = SopBot(c.settings(sandbox.url, db_url), config(backlog), polling_timeout=1)
            await app.start()
            try:
                return await _broadcast(app, sandbox, users, backend)
            finally:
                await app.stop()


async def _broadcast(app: SopBot, sandbox: _r.RemoteSandbox, users: list[int], backend: str) -> Run:
    n = len(users)
    pending = functools.partial(sandbox.call, _r.pending_updates)
    now = app.clock.now()
    async with app.db.transaction() as session:  # the ledger as /start left it
        for i in range(0, n, 1000):
            await session.execute(
                insert_for(session, Member).values(
                    [
                        {
                            "user_id": uid,
                            "first_name": f"U{uid}",
                            "language_code": "en",
                            "first_seen_at": now - timedelta(days=3),
                            "dm_allowed": True,
                            "started_at": now - timedelta(days=3),
                        }
                        for uid in users[i : i + 1000]
                    ]
                )
            )
    # the bot's own start-up passes over the new members (lifecycle tags…) first: the
    # broadcast is measured alone
    settling = time.perf_counter()
    await wait_idle(app, pending, timeout=900)
    settle_s = time.perf_counter() - settling
    source = sandbox.call(operator_says, TEXT, None)
    await c.wait_until(lambda: pending() == 0, 30, "the message fetched")
    sandbox.call(operator_says, "/broadcast all", source)
    # each look is a call into the sandbox's process: every 50 ms, not every 2
    await c.wait_until(
        lambda: sandbox.call(preview_card) is not None, 30, "the preview card", every=0.05
    )
    await wait_idle(app, pending, timeout=120)
    if sandbox.call(members_got_any):
        raise RuntimeError("a member got something before Send")
    card_id, data = sandbox.call(preview_card)
    limit, window = sandbox.call(_r.limits)
    budget = 3 * c.fastest_drain(n, limit, window) + 60
    before = sandbox.call(_r.sent_count)
    pressed = time.time()  # the sandbox stamps sends with time.time() too (same machine)
    sandbox.call(press_send, card_id, data)
    # cheap polling from a thread every 50 ms: the bot's loop is not held up by the asking
    deadline = time.perf_counter() + budget
    while await sandbox.acall(_r.sent_count) < before + n:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not reached within {budget:.0f}s: {n} copies sent by the bot")
        await asyncio.sleep(0.05)
    deadline = time.perf_counter() + 60
    while not await sandbox.acall(tally_shown):
        if time.perf_counter() > deadline:
            raise TimeoutError("not reached within 60s: the final tally")
        await asyncio.sleep(0.05)
    got = sandbox.call(recorded, users[0], n)
    per_member = Counter(chat_id for chat_id, _ in got["sent"])
    times = [at for _, at in got["sent"]]
    return Run(
        f"sopbot ({backend})",
        n,
        len(per_member),
        got["429"],
        got["early"],
        max(times) - pressed,
        times,
        twice=sum(1 for v in per_member.values() if v > 1),
        edits=got["edits"],
        note=f"the bot's start-up passes over {n} new members took "
        f"{settle_s:.1f} s before the operator began",
    )


async def naive_loop(n: int) -> Run:
    with _r.RemoteSandbox() as sandbox:
        sandbox.call(add_members, FIRST_USER, n)
        bot = Bot(c.TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
        try:
            await bot.get_me()
            started = time.time()
            for uid in range(FIRST_USER, FIRST_USER + n):
                with contextlib.suppress(Exception):  # a naive loop drops what fails
                    await bot.send_message(uid, TEXT)
            finished = time.time()
        finally:
            await bot.session.close()
        got = sandbox.call(recorded, FIRST_USER, n)
    sent = [at for _, at in got["sent"]]
    return Run(
        "naive await loop",
        n,
        len(sent),
        got["429"],
        got["early"],
        max([finished, *sent]) - started,
        sent,
    )


def report(n: int, runs: list[Run], limit: int, window: float) -> None:
    print(
        f"\nBroadcast of one message to {n} members, real time; Telegram's limit (as the "
        f"sandbox enforces it): {limit} messages per {window:g} s"
    )
    print(
        "elapsed = from the Send press (sopbot) / the first call (naive) until the last copy "
        "was recorded;\nmsg/s = delivered / elapsed; peak = most deliveries in any "
        f"{window:g} s window\n"
    )
    per_second = limit / window
    headers = [
        "sender",
        "delivered",
        "lost",
        "twice",
        "429s",
        "early retries",
        "elapsed s",
        "msg/s",
        "msg/s ÷ limit",
        "peak/1s",
    ]
    rows = [
        [
            r.name,
            str(r.delivered),
            str(r.lost),
            str(r.twice),
            str(r.answered_429),
            str(r.early_retries),
            c.fmt(r.elapsed, 1),
            c.fmt(r.rate),
            c.ratio(r.rate, per_second),
            str(c.max_in_window(r.send_times, window) if r.send_times else 0),
        ]
        for r in runs
    ]
    c.print_table(headers, rows)
    for run in runs:
        if run.edits:
            gaps = [b - a for a, b in zip(run.edits, run.edits[1:], strict=False)]
            print(
                f"\n{run.name}: progress message edited {len(run.edits)} times, shortest gap "
                f"between edits {min(gaps, default=float('nan')):.1f} s (the last edit is the "
                "final tally, sent as soon as it is over)"
            )
            fastest = c.fastest_drain(n, limit, window)
            span = max(run.send_times) - min(run.send_times)
            print(
                f"  first→last copy {span:.1f} s; the fastest the limit allows for {n} is "
                f"{fastest:.1f} s (ratio {c.ratio(fastest, span)}); {run.note}"
            )
    bots = [r for r in runs if r.name.startswith("sopbot")]
    peers = [r for r in runs if not r.name.startswith("sopbot")]
    for bot in bots:
        for peer in peers:
            print(
                f"\n{bot.name} vs {peer.name}: delivered {bot.delivered} vs {peer.delivered} "
                f"(ratio {c.ratio(bot.delivered, peer.delivered)}), lost {bot.lost} vs "
                f"{peer.lost}, 429s {bot.answered_429} vs {peer.answered_429}"
            )


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--members", type=int, metavar="N", help="members in the segment (default 10000, quick 600)"
    )
    p.add_argument(
        "--backlog",
        type=int,
        metavar="B",
        help="broadcasts.backlog (default: the config's default)",
    )
    args = p.parse_args()
    c.quiet_logging()
    n = args.members or (600 if args.quick else 10_000)
    print(f"bench_broadcast — {c.machine()}")
    print(
        f"backends: {', '.join(c.backends(args.pg))}; N={n} members"
        f"{' (quick)' if args.quick else ''}"
    )
    wall = time.perf_counter()
    runs = [
        await sopbot_broadcast(n, backend, args.pg, args.backlog) for backend in c.backends(args.pg)
    ]
    runs.append(await naive_loop(n))
    limits = c.new_sandbox().limits
    report(n, runs, limits.global_per_second, limits.global_window)
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
