"""The spam wave of ``bench_moderation.py``: 500 copies of one spam text (a few disguises) from
500 accounts within 60 s, while members join (greetings) and members ask the bot in private
what the FAQ answers (automatic answers) — the real bot against the in-process sandbox on a
virtual clock, Telegram's limits running on it too.

Config: ``moderation.wave: {accounts: 3, within: 5m}`` with ``actions.wave: {ban_after: 1}``
(each account banned at its first copy), the greeting batched per ``welcome.group_batch`` (2m).

Printed, each beside its limit: copies deleted (all), delete latency p50/p99 (the copy's date to
the sandbox's record of its deletion, virtual seconds; the first two copies wait for the third,
which makes it a wave), the deletion calls (``deleteMessages`` and their largest batch, against
Telegram's 100), the outbox's calls in any second (against the 30 a second in all; the reads
made outside it — getChatMember, getChatAdministrators — are printed apart) and the
group's messages in any 61 s (against 20), 429s and refused calls, greeting latency p99 (join to
the greeting naming them; the SLA is 30 min, a batch waits 2 min) and automatic answers' p50/p99
(limit 60 s), and the real time the run took. Run twice: the copies evenly spread (one every
0.12 s: the bot keeps up, so most deletions go alone) and in bursts of 25 at once every 3 s (a
botnet's way: the deletions queue up and go out as ``deleteMessages``).
"""

from __future__ import annotations

import time
from collections import Counter

import _common as c

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.delivery.sender import METHODS
from bot.idle import wait_idle
from sandbox import TelegramSandbox
from sandbox.records import Call
from sop.clock import ManualClock

SPAM = "限时福利！加群领取免费课程资料，名额有限先到先得，私信我拿链接"
DISGUISES = (
    SPAM,
    SPAM.replace("！", "!"),
    " ".join(SPAM),
    SPAM + " 🎁🎁",
    SPAM.replace("，", "。"),
)
FAQ_Q = "How do I change my shipping address?"
FIRST_SPAMMER, FIRST_JOINER, FIRST_ASKER = 500_000, 600_000, 700_000
WAVE_YAML = (
    c.CONFIG_YAML.replace(
        "first_response:\n  within: 5m\n",
        f'first_response:\n  within: 5m\n  faq:\n    - q: "{FAQ_Q}"\n      a: "In Orders."\n',
    )
    + """
moderation:
  wave: {accounts: 3, within: 5m}
  actions:
    wave: {ban_after: 1}
"""
)
#: calls that are not Telegram's "messages": the 30 a second in all is not about them
RECEIVING = frozenset({"getUpdates", "getMe", "setWebhook", "deleteWebhook"})
SLA_GREETING, SLA_ANSWER, MAX_IDS, PER_SECOND, GROUP_PER_MINUTE = 1800.0, 60.0, 100, 30, 20


def config() -> CommunityConfig:
    return parse_config(WAVE_YAML, "bench/_wave.py")


async def _settle(app: SopBot, sandbox: TelegramSandbox) -> None:
    await wait_idle(app, sandbox.pending_updates, timeout=120)


async def run(backend: str, pg_url: str | None, copies: int, side: int, burst: int = 1) -> None:
    """``copies`` spam messages in 60 s, ``burst`` at a time (1: evenly spread); ``side`` joins
    and ``side`` FAQ questions among them."""
    clock = ManualClock(c.VIRTUAL_START)
    sandbox = c.new_sandbox(clock.timestamp)
    for n in range(copies):
        sandbox.add_user(FIRST_SPAMMER + n, f"S{n}", language_code="zh")
        sandbox.world.set_status(c.COMMUNITY, FIRST_SPAMMER + n, "member")
    for n in range(side):
        sandbox.add_user(FIRST_JOINER + n, f"J{n}", language_code="zh")
        sandbox.add_user(FIRST_ASKER + n, f"A{n}", language_code="en")
    spam: dict[int, float] = {}  # message id -> date
    joined: dict[int, float] = {}
    asked: dict[int, float] = {}
    started = time.perf_counter()
    async with c.serving(sandbox) as url, c.scratch_database(backend, pg_url) as db_url:
        app = SopBot(c.settings(url, db_url), config(), clock=clock, polling_timeout=1)
        await app.start()
        try:
            await _settle(app, sandbox)
            step = 60.0 / copies
            every = max(1, copies // side) if side else copies + 1
            for n in range(copies):
                uid = FIRST_SPAMMER + n
                text = DISGUISES[n % len(DISGUISES)]
                message = sandbox.user_sends(uid, text, chat_id=c.COMMUNITY)["message"]
                spam[int(message["message_id"])] = float(message["date"])
                if n % every == every // 2 and len(joined) < side:
                    joiner = FIRST_JOINER + len(joined)
                    sandbox.user_joins(c.COMMUNITY, joiner)
                    joined[joiner] = clock.timestamp()
                    asker = FIRST_ASKER + len(asked)
                    sandbox.user_sends(asker, FAQ_Q.lower())
                    asked[asker] = clock.timestamp()
                if (n + 1) % burst == 0 or n + 1 == copies:
                    await _settle(app, sandbox)
                    left = step * burst  # a second at a time: what waits for a limit goes
                    while left > 1e-9:
                        clock.advance(seconds=min(1.0, left))
                        left -= min(1.0, left)
                        await _settle(app, sandbox)
            for _ in range(int(SLA_GREETING)):  # drain: a virtual second at a time
                await _settle(app, sandbox)
                if _done(sandbox, spam, joined, asked):
                    break
                clock.advance(seconds=1)
        finally:
            await app.stop()
    how = "evenly" if burst == 1 else f"in bursts of {burst}"
    report(f"{backend}, {how}", sandbox, spam, joined, asked, time.perf_counter() - started)


def _greeted(sandbox: TelegramSandbox) -> dict[int, float]:
    seen: dict[int, float] = {}
    for m in sandbox.sent_messages(c.COMMUNITY):
        for uid in range(FIRST_JOINER, FIRST_JOINER + 10_000):
            if f"tg://user?id={uid}" in m.text:
                seen.setdefault(uid, m.at)
    return seen


def _done(
    sandbox: TelegramSandbox,
    spam: dict[int, float],
    joined: dict[int, float],
    asked: dict[int, float],
) -> bool:
    gone = {mid for chat, mid, _ in sandbox.world.deleted if chat == c.COMMUNITY}
    if not set(spam) <= gone:
        return False
    if any(not sandbox.sent_messages(uid) for uid in asked):
        return False
    return set(joined) <= set(_greeted(sandbox))


def report(
    backend: str,
    sandbox: TelegramSandbox,
    spam: dict[int, float],
    joined: dict[int, float],
    asked: dict[int, float],
    real: float,
) -> None:
    deleted_at = {mid: at for chat, mid, at in sandbox.world.deleted if chat == c.COMMUNITY}
    latency = [deleted_at[mid] - date for mid, date in spam.items() if mid in deleted_at]
    calls = [x for x in sandbox.calls if x.method not in RECEIVING]
    batches = [c_ for c_ in calls if c_.method == "deleteMessages" and c_.ok]
    singles = [c_ for c_ in calls if c_.method == "deleteMessage" and c_.ok]
    largest = max((len(b.params["message_ids"]) for b in batches), default=0)
    refused = [c_ for c_ in calls if not c_.ok and c_.method != "getUpdates"]
    group = [m.at for m in sandbox.sent_messages(c.COMMUNITY)]
    greeted = _greeted(sandbox)
    greeting = [greeted[uid] - at for uid, at in joined.items() if uid in greeted]
    answers = [
        sandbox.sent_messages(uid)[0].at - at
        for uid, at in asked.items()
        if sandbox.sent_messages(uid)
    ]
    bans = sum(1 for c_ in calls if c_.method == "banChatMember" and c_.ok)
    print(
        f"\nspam wave, {backend}: {len(spam)} copies from {len(spam)} accounts in 60 s, "
        f"{len(joined)} joins and {len(asked)} FAQ questions among them; real time {real:.1f} s"
    )
    p = c.percentile
    rows = [
        ["copies deleted", f"{len(latency)} of {len(spam)}", f"{len(spam)}"],
        [
            "delete latency p50 / p99 (s)",
            f"{c.fmt(p(latency, 50), 2)} / {c.fmt(p(latency, 99), 2)}",
            "≤ 10 (the contract's)",
        ],
        [
            "deletion calls: deleteMessages / deleteMessage",
            f"{len(batches)} / {len(singles)}",
            "—",
        ],
        ["largest deleteMessages (ids)", str(largest), f"≤ {MAX_IDS}"],
        ["bans (banChatMember)", str(bans), f"{len(spam)}"],
        [
            "outbox calls in any 1 s",
            str(c.max_in_window([x.at for x in calls if x.method in METHODS], 1.0)),
            f"≤ {PER_SECOND}",
        ],
        [
            "all calls in any 1 s (with reads)",
            str(c.max_in_window([x.at for x in calls], 1.0)),
            "— (no published limit for reads)",
        ],
        ["group messages in any 61 s", str(c.max_in_window(group, 61.0)), f"≤ {GROUP_PER_MINUTE}"],
        ["429 answers / refused calls", f"{sandbox.count_errors(429)} / {len(refused)}", "0 / 0"],
        [
            "greeting after join p50 / p99 (s)",
            f"{c.fmt(p(greeting, 50))} / {c.fmt(p(greeting, 99))} ({len(greeting)}/{len(joined)})",
            f"≤ {SLA_GREETING:.0f}",
        ],
        [
            "automatic answer p50 / p99 (s)",
            f"{c.fmt(p(answers, 50), 2)} / {c.fmt(p(answers, 99), 2)}"
            f" ({len(answers)}/{len(asked)})",
            f"≤ {SLA_ANSWER:.0f}",
        ],
    ]
    c.print_table(["figure", "measured", "limit"], rows)
    densest = _densest(calls, 1.0)
    print(f"  the busiest second: {densest}")
    for call in refused[:5]:
        print(f"  refused: {call.method} {call.error_code} {call.description}")


def _densest(calls: list[Call], window: float) -> str:
    """The methods of the calls in the busiest ``window``, counted."""
    ordered = sorted(calls, key=lambda x: x.at)
    best: list[Call] = []
    start = 0
    for end, call in enumerate(ordered):
        while ordered[start].at <= call.at - window:
            start += 1
        if end - start + 1 > len(best):
            best = ordered[start : end + 1]
    counted = Counter(x.method for x in best)
    return ", ".join(f"{method} {n}" for method, n in counted.most_common())
