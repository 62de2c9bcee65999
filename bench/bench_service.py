"""The service desk under a crowd: 300 members write to the bot in private within 60 s (a third
ask something the FAQ answers), the real bot against the in-process sandbox on a virtual clock
(Telegram's limits run on it too), until every member's message has reached the team chat.

    .venv/bin/python bench/bench_service.py [--quick] [--pg [URL]] [--members N]

Printed, each beside its limit: automatic answers' latency p50/p99 (limit 60 s); relays' time
to the team chat p50/p99 and how many made it within 60 s (the contract's figure for up to ~15
new conversations a minute); the time until the team first *saw* each member (their copy or a
digest naming them; limit 60 s); team chat messages in any 61 s window (limit 20); 429s (limit
0); members lost (limit 0); how long the queue took to drain; how the team chat's messages
were split between relays, digests and the rest (the daily report, due at 09:01).
Latencies are virtual seconds (message date to the sandbox's record of the send); the real
time the run took is printed too.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from datetime import timedelta

import _common as c
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import OutboxMessage
from bot.idle import wait_idle
from sandbox import TelegramSandbox
from sop.clock import ManualClock

FIRST_USER = 300_000
FAQ_Q = "How do I change my shipping address?"
LIMIT = 60.0
DESK_YAML = c.CONFIG_YAML.replace(
    "first_response:\n  within: 5m\n",
    f'first_response:\n  within: 5m\n  faq:\n    - q: "{FAQ_Q}"\n      a: "In Orders."\n',
)
FAQ_TEXTS = (
    "how can I change my shipping address?",
    "how to change the shipping address",
    "change my shipping address please",
)


async def settle(app: SopBot, sandbox: TelegramSandbox) -> None:
    await wait_idle(app, sandbox.pending_updates, timeout=120)


def config() -> CommunityConfig:
    """The daily report falls due at 09:01, in the middle of the crowd (the run starts at
    09:00): it shares the team chat's minute with the relays."""
    return parse_config(
        DESK_YAML + 'reports:\n  daily:\n    at: "09:01"\n', "bench/bench_service.py"
    )


async def run(backend: str, pg_url: str | None, members: int) -> None:
    # installed two days before the run, so that the daily report is due during it
    clock = ManualClock(c.VIRTUAL_START - timedelta(days=2))
    sandbox = c.new_sandbox(clock.timestamp)
    for n in range(members):
        sandbox.add_user(FIRST_USER + n, f"M{n}", language_code="en")
    started = time.perf_counter()
    async with c.serving(sandbox) as url, c.scratch_database(backend, pg_url) as db_url:
        app = SopBot(c.settings(url, db_url), config(), clock=clock, polling_timeout=1)
        await app.start()
        try:
            await settle(app, sandbox)
            clock.advance(days=2)
            await settle(app, sandbox)
            asked: dict[int, tuple[float, int, bool]] = {}  # user -> (date, message id, faq)
            step = 60.0 / members
            for n in range(members):  # arrivals spread over 60 virtual seconds
                uid = FIRST_USER + n
                faq = n % 3 == 0
                text = FAQ_TEXTS[n % len(FAQ_TEXTS)] if faq else f"order {n} arrived broken"
                message = sandbox.user_sends(uid, text)["message"]
                asked[uid] = (float(message["date"]), int(message["message_id"]), faq)
                await settle(app, sandbox)
                clock.advance(seconds=step)
            relayed = {u for u, (_, _, faq) in asked.items() if not faq}
            for _ in range(3600):  # drain: a virtual second at a time, at most an hour
                await settle(app, sandbox)
                copied = {
                    m.copied_from[0] for m in sandbox.sent_messages(c.TEAM_CHAT) if m.copied_from
                }
                if relayed <= copied:
                    break
                clock.advance(seconds=1)
            drained = clock.now().timestamp()
            async with app.sessions() as session:
                split = dict(
                    (
                        await session.execute(
                            select(OutboxMessage.purpose, func.count())
                            .where(
                                OutboxMessage.chat_id == c.TEAM_CHAT, OutboxMessage.status == "sent"
                            )
                            .group_by(OutboxMessage.purpose)
                        )
                    ).all()
                )
        finally:
            await app.stop()
    real = time.perf_counter() - started
    report(backend, sandbox, asked, drained, split, real)


def report(
    backend: str,
    sandbox: TelegramSandbox,
    asked: dict[int, tuple[float, int, bool]],
    drained: float,
    split: dict[str, int],
    real: float,
) -> None:
    team = sandbox.sent_messages(c.TEAM_CHAT)
    first_copy: dict[int, float] = {}
    for m in team:
        if m.copied_from is not None:
            first_copy.setdefault(m.copied_from[0], m.at)
    seen = dict(first_copy)
    for m in team:
        if m.text.count("tg://user?id=") > 1:  # a digest
            for uid in map(int, re.findall(r"tg://user\?id=(\d+)", m.text)):
                seen[uid] = min(seen.get(uid, m.at), m.at)
    auto, relay, seen_after, lost = [], [], [], 0
    for uid, (date, _, faq) in asked.items():
        if faq:
            answers = [m.at for m in sandbox.sent_messages(uid)]
            if answers:
                auto.append(answers[0] - date)
            else:
                lost += 1
        elif uid in first_copy:
            relay.append(first_copy[uid] - date)
            seen_after.append(seen[uid] - date)
        else:
            lost += 1
    first = min(d for d, _, _ in asked.values())
    window = c.max_in_window([m.at for m in team], 61.0)
    print(
        f"\n{backend}: {len(asked)} members in 60 s, {len(auto)} answered from the FAQ, "
        f"{len(relay)} relayed; real time {real:.1f} s"
    )
    rows = [
        [
            "automatic answer p50 / p99 (s)",
            f"{c.fmt(c.percentile(auto, 50))} / {c.fmt(c.percentile(auto, 99))}",
            f"≤ {LIMIT:.0f}",
        ],
        [
            "relay to team chat p50 / p99 (s)",
            f"{c.fmt(c.percentile(relay, 50))} / {c.fmt(c.percentile(relay, 99))}",
            "—",
        ],
        ["relays within 60 s", f"{sum(1 for r in relay if r <= LIMIT)}", "≥ 15 (a minute's share)"],
        [
            "team saw each member (copy or digest) p99 (s)",
            c.fmt(c.percentile(seen_after, 99)),
            f"≤ {LIMIT:.0f}",
        ],
        ["team chat messages in any 61 s", str(window), "≤ 20"],
        ["429 answers", str(sandbox.count_errors(429)), "0"],
        ["members lost", str(lost), "0"],
        [
            "queue drained after (s)",
            c.fmt(drained - first),
            f"≥ {c.fmt(c.fastest_drain(len(relay), 17, 61.0))} (17/61 s)",
        ],
    ]
    c.print_table(["figure", "measured", "limit"], rows)
    total = sum(split.values())
    parts = ", ".join(
        f"{p} {n} ({n / total:.0%})" for p, n in sorted(split.items(), key=lambda i: -i[1])
    )
    print(f"  team chat budget: {total} messages: {parts}")


def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=300)
    args = p.parse_args()
    members = 60 if args.quick else args.members
    c.quiet_logging()
    print(f"bench_service — {c.machine()}")
    for backend in c.backends(args.pg):
        asyncio.run(run(backend, args.pg, members))
    return 0


if __name__ == "__main__":
    sys.exit(main())
