"""Several instances: 1, 2 and 3 real ``sopbot run`` processes in webhook mode behind a
round-robin balancer, on PostgreSQL and Redis (a cluster and a server of the benchmark's own,
on spare ports), against the sandbox pushing updates as Telegram does.

    .venv/bin/python bench/bench_scale.py [--quick] [--members N] [--instances 1,2,3]

For each count of processes:

1. **Ingest.** 3,000 group messages from 300 members pushed at once, then a hook keyword; from
   the push until the hook's answer is in the group: msg/s. Peer in the same run: a bare aiogram
   bot (a no-op handler, the keyword answered; ``bench/_bare_webhook.py``) behind the same
   balancer, fed the same updates. Telegram pushes one chat's updates one at a time (a queue per
   chat), so one busy group is taken in at the speed of one request after another, whatever
   the number of processes.
2. **Broadcast** to N members (default 10,000; ``--quick`` 1,000): copies/s from Send until the
   last copy, and from the first copy to the last, each with its ratio to the bot's limit in
   all (read from the sandbox), the most copies in any second, 429 answers, early retries,
   members reached twice or never.
3. **CPU** seconds of each process (``/proc/<pid>/stat``, user + system) over each part.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _common as c  # noqa: E402

from sandbox import TelegramSandbox  # noqa: E402
from tests.cluster.balancer import Balancer  # noqa: E402
from tests.cluster.instances import WEBHOOK_SECRET, Instance  # noqa: E402
from tests.cluster.servers import PostgresCluster  # noqa: E402
from tests.cluster.stack import COMMUNITY, OPERATOR, TEAM_CHAT, Stack  # noqa: E402
from tests.conftest import unused_port  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

KEYWORD = "guide666"
ANSWER = "Here is the guide"
FIRST_SPEAKER, FIRST_MEMBER = 50_000, 300_000

CONFIG = f"""
timezone: Asia/Shanghai
default_locale: en
team:
  operators: [{OPERATOR}]
  chat: {TEAM_CHAT}
communities:
  - chat_id: {COMMUNITY}
    title: Bench community
welcome:
  within: 30m
  group_batch: 2m
  template: welcome
sop:
  quiet_hours: "off"
hooks:
  - id: guide
    keywords: [{KEYWORD}]
    template: guide
    once_per_member: false
"""


@dataclass
class Result:
    instances: int
    ingest_rate: float = float("nan")
    sent: int = 0
    twice: int = 0
    missing: int = 0
    rate: float = float("nan")
    steady: float = float("nan")
    peak: int = 0
    answered_429: int = 0
    early: int = 0
    cpu_ingest: list[float] = field(default_factory=list)
    cpu_broadcast: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc``); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids(members: list[Instance]) -> list[int]:
    return [m.process.pid for m in members if m.process is not None]


@dataclass(frozen=True)
class Load:
    messages: int
    speakers: int
    members: int


def add_speakers(sandbox: TelegramSandbox, load: Load) -> None:
    for uid in range(FIRST_SPEAKER, FIRST_SPEAKER + load.speakers):
        sandbox.add_user(uid, f"S{uid}", language_code="en")
        sandbox.world.set_status(COMMUNITY, uid, "member")


async def ingest(sandbox: TelegramSandbox, load: Load, timeout: float) -> float:  # noqa: ASYNC109
    """Pushes the messages and the keyword; msg/s until the answer is in the group."""
    before = len(sandbox.sent_messages(COMMUNITY))
    started = time.perf_counter()
    for i in range(load.messages):
        uid = FIRST_SPEAKER + i % load.speakers
        sandbox.user_sends(uid, f"chatting about the launch, part {i}", chat_id=COMMUNITY)
    sandbox.user_sends(FIRST_SPEAKER, KEYWORD, chat_id=COMMUNITY)

    def answered() -> bool:
        return any(
            ANSWER in m.text or m.text == "got it"
            for m in sandbox.sent_messages(COMMUNITY)[before:]
        )

    await c.wait_until(answered, timeout, "the keyword's answer", every=0.01)
    return (load.messages + 1) / (time.perf_counter() - started)


async def run_sopbot(
    count: int, pg: PostgresCluster, redis: RedisServer, load: Load, workdir: Path
) -> Result:
    result = Result(count)
    members = load.members
    redis.flush()
    (workdir / f"n{count}").mkdir()
    async with Stack(pg, redis, workdir / f"n{count}", CONFIG, count=count) as stack:
        await stack.start()
        sandbox = stack.sandbox
        add_speakers(sandbox, load)
        procs = pids(stack.instances.members)
        cpu0 = [cpu_seconds(p) for p in procs]
        result.ingest_rate = await ingest(sandbox, load, timeout=1800)
        cpu1 = [cpu_seconds(p) for p in procs]
        result.cpu_ingest = [b - a for a, b in zip(cpu0, cpu1, strict=True)]

        ids = await stack.seed_members(range(FIRST_MEMBER, FIRST_MEMBER + members))
        wanted = set(ids)
        errors_before = sandbox.count_errors(429)
        early_before = sandbox.early_retries
        await stack.broadcast("Flash sale tonight: 20% off everything.")
        pressed = sandbox.world.now()
        cpu2 = [cpu_seconds(p) for p in procs]
        limit = sandbox.limits.global_per_second
        try:
            await c.wait_until(
                lambda: len(stack.copies(wanted)) == members,
                members / limit * 3 + 120,
                "every member reached",
                every=0.2,
            )
        except TimeoutError as error:  # reported in the table ("never"), the run goes on
            print(f"  {count} process(es): {error}", flush=True)
        await asyncio.sleep(2)  # a repeat would come now, if any
        copies = [m for m in sandbox.sent_messages() if m.chat_id in wanted]
        got = stack.copies(wanted)
        result.sent = len(got)
        result.twice = sum(1 for n in got.values() if n > 1)
        result.missing = members - len(got)
        last = max(m.at for m in copies)
        result.rate = len(copies) / (last - pressed)
        first = min(m.at for m in copies)
        result.steady = (len(copies) - 1) / (last - first) if last > first else float("nan")
        result.peak = c.max_in_window([m.at for m in copies], 1.0)
        result.answered_429 = sandbox.count_errors(429) - errors_before
        result.early = sandbox.early_retries - early_before
        cpu3 = [cpu_seconds(p) for p in procs]
        result.cpu_broadcast = [b - a for a, b in zip(cpu2, cpu3, strict=True)]
    return result


async def run_peer(load: Load, workdir: Path) -> float:
    """The bare aiogram bot's ingest rate, through a balancer of its own on the same sandbox
    setup."""
    stack_sandbox = c.new_sandbox()
    stack_sandbox.world.webhook.max_delay = 60.0
    async with c.serving(stack_sandbox) as api:
        port = unused_port()
        balancer = Balancer([f"http://127.0.0.1:{port}"])
        await balancer.start()
        log = (workdir / "peer.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "_bare_webhook.py"),
            c.TOKEN,
            api,
            balancer.url + "/tg/webhook",
            f"127.0.0.1:{port}",
            WEBHOOK_SECRET,
            KEYWORD,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=log,
        )
        try:
            await c.wait_until(
                lambda: bool(stack_sandbox.world.webhook_url), 120, "the peer's setWebhook"
            )
            add_speakers(stack_sandbox, load)
            return await ingest(stack_sandbox, load, timeout=600)
        finally:
            process.terminate()
            await process.wait()
            log.close()
            await balancer.stop()


def cpu_cell(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


async def main() -> None:
    p = c.parser(__doc__ or "")
    p.add_argument("--members", type=int, default=None, help="broadcast audience (10,000)")
    p.add_argument("--instances", default="1,2,3", help="process counts to run (1,2,3)")
    args = p.parse_args()
    load = Load(
        messages=600 if args.quick else 3_000,
        speakers=60 if args.quick else 300,
        members=args.members or (1_000 if args.quick else 10_000),
    )
    counts = [int(n) for n in args.instances.split(",")]
    c.quiet_logging()
    print(f"bench_scale: {c.machine()}")
    print(
        f"ingest: {load.messages:,} group messages from {load.speakers} members, then a hook "
        f"keyword; broadcast: {load.members:,} members; PostgreSQL + Redis, webhook behind a "
        "balancer"
    )
    pg = PostgresCluster()
    pg.start()
    redis = RedisServer(unused_port())
    redis.start()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="sopbot-scale-") as tmp:
            work = Path(tmp)
            peer = await run_peer(load, work)
            print(f"\nbare aiogram (webhook, no-op handler): {peer:.0f} msg/s ingest")
            for count in counts:
                result = await run_sopbot(count, pg, redis, load, work)
                results.append(result)
                print(
                    f"  {count} process(es): ingest {result.ingest_rate:.0f} msg/s, broadcast "
                    f"{result.rate:.1f}/s, {result.answered_429} x 429",
                    flush=True,
                )
    finally:
        redis.stop()
        pg.close()
    limit = c.new_sandbox().limits.global_per_second
    print()
    c.print_table(
        [
            "processes", "ingest msg/s", "÷ bare", "copies/s", "÷ limit", "first→last/s",
            "÷ limit", "peak 1 s",
            "429", "early", "twice", "never", "CPU s ingest", "CPU s broadcast",
        ],
        [
            [
                str(r.instances), c.fmt(r.ingest_rate, 0), c.ratio(r.ingest_rate, peer),
                c.fmt(r.rate), c.ratio(r.rate, limit), c.fmt(r.steady), c.ratio(r.steady, limit),
                str(r.peak), str(r.answered_429),
                str(r.early), str(r.twice), str(r.missing), cpu_cell(r.cpu_ingest),
                cpu_cell(r.cpu_broadcast),
            ]
            for r in results
        ],
    )  # fmt: skip
    print(f"\nlimit in all: {limit}/s (the sandbox's); CPU: per process, user + system")


if __name__ == "__main__":
    asyncio.run(main())
