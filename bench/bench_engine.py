"""The SOP engine's tick cost (``run_sop``) with 100,000 members and 50 schedules.

    .venv/bin/python bench/bench_engine.py [--quick] [--pg [URL]]

A world in a freshly migrated database (``bot.db.migrate.upgrade``): M members (default 100,000;
quick 10,000), each with a membership in the one community, inserted in bulk; a config with 50
schedules (message, briefing and Q&A kinds; daily crons spread over the day, four every 15
minutes), 500 keyword hooks and 30 FAQ entries; briefing items for the simulated days (added with
``SopRepository.add_brief_item``); 300 open questions whose deadlines are spread over the day
(every third one matches an FAQ entry and is answered automatically, the rest are escalated);
and the runs of the 9 days before, as the bot would have recorded them (the engine's own
``calendar``), since each tick reads back the last 8 days of runs (``ScheduleService``).

``run_sop(app.jobs)`` is called directly, once per minute of virtual time over a simulated day
(1,441 ticks, both ends included; quick: 3 hours, 181 ticks), on a ``ManualClock`` that starts
at 09:00 local. The bot is built as the app builds it, but not started: its ``Runtime`` is made
the way ``SopBot.start`` makes it, so no other loop (tickers, polling, delivery) runs beside the
tick being timed; messages the tick queues are written to the outbox (measured) and never sent.
Each call is timed alone (``perf_counter``) and classed after the fact, outside the timing:
*active* when it recorded a run (sent, no_content or missed) or answered/escalated a question,
*idle* otherwise.

Peer (the floor): the pure planning call ``engine.plan(...)`` over the same 50 schedules, at the
same virtual instants, with the ``done`` set each tick saw (the runs recorded before that
instant) and the per-schedule ``since`` it reads; timed in the same run. The ratio is the
tick's cost ÷ planning's (mean and p50).

Member count: a twin world with 1,000 members and otherwise the same content; at the start
instant, after a first tick has done what was due, 300 idle ticks in each (quick: 100),
interleaved with the order alternating, checked to record nothing; the ratio of their costs.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c
import yaml
from sqlalchemy import func, insert, select, text

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.migrate import upgrade
from bot.db.models import Member, Membership, OutboxMessage, Question, SopRun, SopState
from bot.db.repositories import SopRepository
from bot.runtime import Runtime
from bot.services import BotIdentity
from bot.services.sop.jobs import run_sop
from sop.clock import ManualClock
from sop.schedules import calendar

SEED = 20261122
MEMBERS, QUICK_MEMBERS, SMALL_MEMBERS = 100_000, 10_000, 1_000
SCHEDULES, HOOKS, FAQ_ENTRIES, QUESTIONS = 50, 500, 30, 300
STEP = timedelta(minutes=1)
DAY, QUICK_SPAN = timedelta(days=1), timedelta(hours=3)
BATCH = 5_000  # rows per bulk insert
#: days of recorded runs before the simulation (the tick reads back 8 days + the grace)
HISTORY_DAYS = 9
PLAN_ROUNDS = 5  # planning is timed this often per instant; the mean is taken
#: idle ticks timed per world in the member-count comparison (quick: 100)
TWIN_ROUNDS, QUICK_TWIN_ROUNDS = 300, 100
FIRST_MEMBER = 10_000_000
DUMMY_API = "http://127.0.0.1:9"  # never contacted: the bot is not started


# -- the world ---------------------------------------------------------------------------------

#: the benchmark's own templates (a config ``templates`` folder), so that edits to the built-in
#: ones do not change what is measured
TEMPLATES = {
    "bench_message": "📘 {{ community }}：今日提示 {{ day }}{% if late %}（稍晚）{% endif %}",
    "bench_briefing": "☀️ <b>早报</b> {{ day }}\n{% for item in items %}• {{ item }}\n{% endfor %}",
    "bench_qa": "🌙 今晚 {{ starts[-5:] }} 答疑{% if topic %}：<b>{{ topic }}</b>{% endif %}",
}


def write_templates(folder: Path) -> None:
    for locale in ("zh", "en"):
        (folder / locale / "bench").mkdir(parents=True, exist_ok=True)
        for name, body in TEMPLATES.items():
            (folder / locale / "bench" / f"{name}.html.j2").write_text(body + "\n", "utf-8")


def schedules() -> list[dict[str, Any]]:
    """50 schedules: 8 briefings, 8 Q&As, 4 every 15 minutes, 30 daily messages."""
    out: list[dict[str, Any]] = []
    for i in range(8):
        out.append(
            {
                "id": f"brief_{i:02d}",
                "kind": "briefing",
                "template": "bench_briefing",
                "cron": f"{(i * 7) % 60} {(6 + i * 2) % 24} * * *",
            }
        )
    for i in range(8):
        hour = (10 + i * 2) % 24
        out.append(
            {
                "id": f"qa_{i:02d}",
                "kind": "qa",
                "template": "bench_qa",
                "cron": f"{(i * 11) % 60} {hour} * * *",
                "starts_at": f"{(hour + 2) % 24:02d}:00",
            }
        )
    for i, cron in enumerate(
        ["*/15 * * * *", "7-59/15 * * * *", "*/15 8-21 * * *", "3-59/15 9-17 * * mon-fri"]
    ):
        out.append(
            {"id": f"every15_{i}", "kind": "message", "template": "bench_message", "cron": cron}
        )
    for i in range(SCHEDULES - len(out)):
        # spread over the day: hours step by 5 (mod 24 covers every hour), minutes by 37
        dow = "mon-fri" if i % 5 == 4 else "*"
        out.append(
            {
                "id": f"msg_{i:02d}",
                "kind": "message",
                "template": "bench_message",
                "cron": f"{(i * 37 + 2) % 60} {(i * 5 + 1) % 24} * * {dow}",
            }
        )
    assert len(out) == SCHEDULES
    return out


def hooks() -> list[dict[str, Any]]:
    return [
        {
            "id": f"hook_{i:03d}",
            "keywords": [f"kw{i:03d}", f"词{i:03d}号"],
            "template": "guide",
            "tag": f"interest:h{i}",
        }
        for i in range(HOOKS)
    ]


def faq() -> list[dict[str, str]]:
    return [
        {"q": f"第{i}号问题：优惠券{i}怎么使用？", "a": f"答案 {i}：结算页输入券码即可。"}
        for i in range(FAQ_ENTRIES)
    ]


def community_config() -> CommunityConfig:
    data = yaml.safe_load(c.CONFIG_YAML)
    data["first_response"] = {"within": "5m", "faq": faq()}
    data["schedules"] = schedules()
    data["hooks"] = hooks()
    data["templates"] = "templates"
    return parse_config(yaml.safe_dump(data, allow_unicode=True), "bench/bench_engine.py")


@dataclass
class World:
    name: str
    members: int
    app: SopBot
    clock: ManualClock
    setup_s: float = 0.0
    #: per tick: (virtual instant, seconds, runs recorded, questions settled)
    ticks: list[tuple[datetime, float, int, int]] = field(default_factory=list)
    counts: tuple[int, int] = (0, 0)

    async def observe(self) -> tuple[int, int]:
        """Runs recorded and questions no longer open, so far (read outside the timing)."""
        async with self.app.sessions() as session:
            runs = (await session.execute(select(func.count()).select_from(SopRun))).scalar_one()
            settled = (
                await session.execute(
                    select(func.count()).select_from(Question).where(Question.status != "open")
                )
            ).scalar_one()
        return int(runs), int(settled)

    async def tick(self) -> None:
        now = self.clock.now()
        started = time.perf_counter()
        await run_sop(self.app.jobs)
        elapsed = time.perf_counter() - started
        runs, settled = await self.observe()
        self.ticks.append((now, elapsed, runs - self.counts[0], settled - self.counts[1]))
        self.counts = (runs, settled)


def faq_link(config: CommunityConfig, index: int | None) -> dict[str, Any]:
    """The column that ties a question to the FAQ entry it matched, as the bot fills it."""
    if index is None:
        return {}
    if hasattr(Question, "faq_key"):  # by the entry's key (a reload may reorder entries)
        from bot.services.sop.questions import faq_key

        return {"faq_key": faq_key(config.first_response.faq[index].q)}
    return {"faq_index": index}


async def build_world(
    name: str, members: int, config: CommunityConfig, db_url: str, config_dir: Path
) -> World:
    started = time.perf_counter()
    clock = ManualClock(c.VIRTUAL_START)
    settings = c.settings(DUMMY_API, db_url).model_copy(
        update={"sopbot_config": config_dir / "community.yaml"}
    )
    app = SopBot(settings, config, clock=clock)
    await upgrade(app.db.engine)
    # what SopBot.start() builds, without starting the loops or asking Telegram who we are
    app.runtime = Runtime(
        db=app.db,
        clock=clock,
        config=app.config,
        identity=BotIdentity(id=424242, username="sopbot_bench"),
        config_dir=app.settings.sopbot_config.parent,
        after_commit=app._after_commit,
    )
    app.jobs.runtime = app.runtime
    now = clock.now()
    rng = random.Random(SEED)
    async with app.db.transaction() as session:
        for low in range(0, members, BATCH):
            ids = range(FIRST_MEMBER + low, FIRST_MEMBER + min(members, low + BATCH))
            await session.execute(
                insert(Member),
                [
                    {
                        "user_id": uid,
                        "first_name": f"M{uid}",
                        "language_code": "zh-hans",
                        "source": "unknown",
                        "source_kind": "unknown",
                        "first_seen_at": now - timedelta(days=1 + uid % 300),
                        "dm_allowed": uid % 3 == 0,
                        "last_seen_at": now - timedelta(hours=uid % 500),
                    }
                    for uid in ids
                ],
            )
            await session.execute(
                insert(Membership),
                [
                    {
                        "chat_id": c.COMMUNITY,
                        "user_id": uid,
                        "joined_at": now - timedelta(days=1 + uid % 300),
                        "welcomed_at": now - timedelta(days=1 + uid % 300),
                    }
                    for uid in ids
                ],
            )
        sop = SopRepository(session)
        local_day = now.astimezone(config.tz).date()
        for offset in range(2):  # the day the simulation starts and the next
            for n in range(5):
                await sop.add_brief_item(
                    local_day + timedelta(days=offset),
                    f"行业新闻 {n}：A 公司发布新品 {offset}-{n}",
                    c.OPERATOR,
                    now,
                )
        questions = []
        for i in range(QUESTIONS):  # deadlines spread over the whole day, staggered
            deadline = now + DAY * (i + 0.5) / QUESTIONS + timedelta(seconds=rng.randint(-40, 40))
            questions.append(
                {
                    "chat_id": c.COMMUNITY,
                    "message_id": 500_000 + i,
                    "user_id": FIRST_MEMBER + (i * 7919) % members,
                    "asked_at": deadline - config.first_response.within,
                    "deadline": deadline,
                    "status": "open",
                    **faq_link(config, i % FAQ_ENTRIES if i % 3 == 0 else None),
                }
            )
        await session.execute(insert(Question), questions)
        # a bot that has run for a while: the runs of the past HISTORY_DAYS (the engine's own
        # calendar) are recorded, and it was installed before them; each tick reads them back
        engine = app.config.loaded.engine
        past = calendar(engine.schedule_specs(), now - timedelta(days=HISTORY_DAYS), now)
        for low in range(0, len(past), BATCH):
            await session.execute(
                insert(SopRun),
                [
                    {"schedule_id": sid, "fire_at": at, "status": "sent", "carried_at": at}
                    for at, sid in past[low : low + BATCH]
                ],
            )
        installed = now - timedelta(days=HISTORY_DAYS, hours=1)
        session.add(SopState(key="installed", at=installed))
        await session.flush()
        # each schedule has existed since then, unchanged
        await sop.schedule_sinces([(s.id, s.cron) for s in config.schedules], installed)
    if app.db.dialect == "postgresql":
        # what autovacuum does to a bulk load sooner or later: not during the measurement
        async with app.db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("VACUUM ANALYZE")
            )
    return World(name, members, app, clock, setup_s=time.perf_counter() - started)


async def close(world: World) -> None:
    await world.app.bot.session.close()
    await world.app.db.dispose()


# -- measuring ---------------------------------------------------------------------------------


async def simulate(world: World, span: timedelta) -> None:
    """One tick per virtual minute over ``span`` (both ends included)."""
    world.counts = await world.observe()
    for _ in range(int(span / STEP) + 1):
        await world.tick()
        world.clock.advance(STEP)


async def idle_twins(worlds: list[World], rounds: int) -> dict[str, list[float]]:
    """Idle ticks at one instant in worlds that differ only in their member count: a first
    tick carries out what is due at the start, then ``rounds`` ticks each, interleaved (the
    order alternating), find nothing to do. Checked: none of them records anything."""
    for w in worlds:
        await run_sop(w.app.jobs)
        w.counts = await w.observe()
    costs: dict[str, list[float]] = {w.name: [] for w in worlds}
    for i in range(rounds):
        for w in worlds if i % 2 == 0 else worlds[::-1]:
            started = time.perf_counter()
            await run_sop(w.app.jobs)
            costs[w.name].append(time.perf_counter() - started)
    for w in worlds:
        if await w.observe() != w.counts:
            raise RuntimeError(f"{w.name}: an idle tick recorded something")
    return costs


async def planning(world: World) -> list[float]:
    """``engine.plan`` alone at each tick's instant, with the runs recorded before it."""
    async with world.app.sessions() as session:
        runs = [
            (r[0], r[1])
            for r in (await session.execute(select(SopRun.schedule_id, SopRun.fire_at))).all()
        ]
        repo = SopRepository(session)
        installed = (
            await session.execute(select(SopState.at).where(SopState.key == "installed"))
        ).scalar_one()
        # what the tick passes: per schedule, since when it exists in this form (read back)
        sinces = await repo.schedule_sinces(
            [(s.id, s.cron) for s in world.app.config.current.schedules], installed
        )
        since = {sid: max(installed, at) for sid, at in sinces.items()}
        paused = await repo.paused()
    engine = world.app.config.loaded.engine
    costs: list[float] = []
    for now, *_ in world.ticks:
        done = {(sid, at) for sid, at in runs if at < now}
        best: list[float] = []
        for _ in range(PLAN_ROUNDS):
            started = time.perf_counter()
            engine.plan(done=done, paused=paused, now=now, since=since)
            best.append(time.perf_counter() - started)
        costs.append(statistics.fmean(best))
    return costs


def stats_row(name: str, seconds: list[float]) -> list[str]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return [name, "0", "n/a", "n/a", "n/a", "n/a", "n/a"]
    return [
        name,
        str(len(ms)),
        c.fmt(statistics.fmean(ms), 3),
        c.fmt(c.percentile(ms, 50), 3),
        c.fmt(c.percentile(ms, 95), 3),
        c.fmt(max(ms), 3),
        c.fmt(sum(ms) / 1000, 2),
    ]


async def run_backend(
    backend: str,
    pg_url: str | None,
    members: int,
    span: timedelta,
    config: CommunityConfig,
    config_dir: Path,
    rounds: int,
) -> None:
    print(f"\n== {backend} ==")
    async with (
        c.scratch_database(backend, pg_url) as big_url,
        c.scratch_database(backend, pg_url) as small_url,
    ):
        big = await build_world(f"{members:,} members", members, config, big_url, config_dir)
        small = await build_world(
            f"{SMALL_MEMBERS:,} members", SMALL_MEMBERS, config, small_url, config_dir
        )
        small_open = True
        try:
            print(
                f"  setup (migrate + bulk insert + content): {big.name} {big.setup_s:.1f} s, "
                f"{small.name} {small.setup_s:.1f} s"
            )
            gc.collect()
            twins = await idle_twins([small, big], rounds)
            await close(small)
            small_open = False
            wall = time.perf_counter()
            await simulate(big, span)
            sim_wall = time.perf_counter() - wall
            plan_costs = await planning(big)
            async with big.app.sessions() as session:
                outbox = (
                    await session.execute(select(func.count()).select_from(OutboxMessage))
                ).scalar_one()
                statuses = dict(
                    (
                        await session.execute(
                            select(SopRun.status, func.count())
                            .where(SopRun.carried_at >= c.VIRTUAL_START)
                            .group_by(SopRun.status)
                        )
                    ).all()
                )
                history = (
                    await session.execute(
                        select(func.count())
                        .select_from(SopRun)
                        .where(SopRun.carried_at < c.VIRTUAL_START)
                    )
                ).scalar_one()
                qstatus = dict(
                    (
                        await session.execute(
                            select(Question.status, func.count()).group_by(Question.status)
                        )
                    ).all()
                )
        finally:
            await close(big)
            if small_open:
                await close(small)

    ticks = big.ticks
    idle = [t[1] for t in ticks if not t[2] and not t[3]]
    active = [t[1] for t in ticks if t[2] or t[3]]
    with_runs = [t[1] for t in ticks if t[2]]
    with_questions = [t[1] for t in ticks if t[3] and not t[2]]
    all_ticks = [t[1] for t in ticks]
    idle_plan = [p for p, t in zip(plan_costs, ticks, strict=True) if not t[2] and not t[3]]
    mean = statistics.fmean
    print(
        f"  {len(ticks)} ticks, one per virtual minute from "
        f"{ticks[0][0].astimezone(config.tz):%Y-%m-%d %H:%M} local over {span}; "
        f"{sim_wall:.1f} s real (ticks + counting what each did)"
    )
    print(
        f"  {big.name}: {history} runs recorded before the start ({HISTORY_DAYS} days); "
        f"in the simulation: runs recorded {dict(sorted(statuses.items()))}, questions "
        f"{dict(sorted(qstatus.items()))}, {outbox} outbox rows queued (not sent)"
    )
    print("\n  tick cost, ms per call (" + big.name + ", 50 schedules):")
    c.print_table(
        ["call", "calls", "mean ms", "p50 ms", "p95 ms", "max ms", "total s"],
        [
            stats_row("run_sop, all ticks", all_ticks),
            stats_row("run_sop, idle (nothing due)", idle),
            stats_row("run_sop, active (run or question)", active),
            stats_row("  of which carried out a run", with_runs),
            stats_row("  of which only questions", with_questions),
            stats_row("engine.plan alone (floor)", plan_costs),
            stats_row("engine.plan alone, idle instants", idle_plan),
        ],
    )
    print(
        f"  tick ÷ planning: mean all {c.ratio(mean(all_ticks), mean(plan_costs))}, "
        f"idle {c.ratio(mean(idle), mean(idle_plan)) if idle else 'n/a'}, "
        f"active {c.ratio(mean(active), mean(plan_costs)) if active else 'n/a'}; "
        f"p50 all {c.ratio(c.percentile(all_ticks, 50), c.percentile(plan_costs, 50))}, "
        f"idle {c.ratio(c.percentile(idle, 50), c.percentile(idle_plan, 50))}"
    )

    print(
        f"\n  idle tick cost against the member count ({rounds} ticks each at "
        f"{c.VIRTUAL_START.astimezone(config.tz):%H:%M} local, interleaved, same content):"
    )
    c.print_table(
        ["world", "idle ticks", "mean ms", "p50 ms", "p95 ms", "max ms", "total s"],
        [stats_row(name, costs) for name, costs in twins.items()],
    )
    a, b = twins[small.name], twins[big.name]
    print(
        f"  {big.name} ÷ {small.name}: mean {c.ratio(mean(b), mean(a))}, "
        f"p50 {c.ratio(c.percentile(b, 50), c.percentile(a, 50))}, "
        f"p95 {c.ratio(c.percentile(b, 95), c.percentile(a, 95))} "
        f"(members ×{big.members / small.members:.0f})"
    )


async def main() -> int:
    p = c.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    c.quiet_logging()
    members = QUICK_MEMBERS if args.quick else MEMBERS
    span = QUICK_SPAN if args.quick else DAY
    config = community_config()
    kinds: dict[str, int] = {}
    for s in config.schedules:
        kinds[s.effective_kind] = kinds.get(s.effective_kind, 0) + 1
    print(f"bench_engine — {c.machine()}")
    print(
        f"world: {members:,} members (and a {SMALL_MEMBERS:,}-member twin) in one community; "
        f"{len(config.schedules)} schedules {kinds}; {len(config.hooks)} hooks, "
        f"{len(config.first_response.faq)} FAQ entries; {QUESTIONS} open questions "
        f"(deadlines over the day); {'quick: ' if args.quick else ''}"
        f"one run_sop() per virtual minute over {span}"
    )
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sopbot-bench-templates-") as tmp:
        write_templates(Path(tmp) / "templates")
        for backend in c.backends(args.pg):
            await run_backend(
                backend,
                args.pg,
                members,
                span,
                config,
                Path(tmp),
                QUICK_TWIN_ROUNDS if args.quick else TWIN_ROUNDS,
            )
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
