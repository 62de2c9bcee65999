"""``sopbot demo``: one virtual day of a simulated community, in seconds, offline.

What it shows: the real bot (``bot.app.SopBot``: aiogram, SQLite, the outbox and its rate
limiter) runs against the in-repo Telegram sandbox over real HTTP, on a virtual clock stepped a
minute at a time (up to five while nothing happens) from 00:00 to 23:59 in Asia/Shanghai.
A seeded crowd arrives the ways people do: ``/start src_<channel>`` deep links, named invite
links, join requests (the bot DMs the gift, then approves), plain joins, a burst of 60 at the
20:00 Q&A; they chat, post stickers, leave, block the bot, claim their gift from the group
greeting. At the end the operator sends ``/kpi`` and the demo prints the answer, then what the
sandbox measured: messages sent, greetings and the busiest minute in the group against
Telegram's limit of 20, 429 answers and other errors, messages sent twice (none expected).
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.app import SopBot
from bot.config import Settings, parse_config
from sandbox import TelegramSandbox
from sop.clock import ManualClock

TOKEN = "777000:DEMO-offline-sandbox-token"
COMMUNITY, TEAM_CHAT, OPERATOR = -1002001, -1005001, 1001
TZ = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2026, 11, 20, tzinfo=TZ)
CONFIG_YAML = f"""
timezone: Asia/Shanghai
default_locale: zh
team: {{operators: [{OPERATOR}], chat: {TEAM_CHAT}}}
communities: [{{chat_id: {COMMUNITY}, title: Demo community}}]
welcome: {{within: 30m, group_batch: 2m, template: welcome, gift_coupon: newcomer}}
first_response: {{within: 5m}}
coupons:
  newcomer: {{title: 新人礼包, discount: "20%", valid_days: 7, per_member: 1}}
"""
CHANNELS = ["douyin", "xhs", "wechat", "bilibili"]
LINK_NAMES = ["wechat-article", "bilibili-video", "xhs-note", "kol-partner"]
QA_LINK, REQUEST_LINK = "evening-qa", "douyin-live"
ZH_NAMES = "小明 王芳 李娜 张伟 刘洋 陈静 杨帆 赵磊 黄丽 周杰 吴敏 徐婷 孙浩 马超 朱琳 胡军".split()
EN_NAMES = "Alice Ben Chloe Daniel Emma Felix Grace Henry Iris Jack Kate Leo Mia Noah Ruby".split()
CHATTER = ["大家好！", "请问优惠券怎么用？", "今晚几点开始？", "谢谢分享 👍", "Hi all!",
           "Where is the beginner's guide?", "Great session today", "收到，感谢"]
#: how many join per hour of the day, relative (night quiet, evening busy)
HOUR_WEIGHTS = [3, 2, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 18, 15, 13, 13, 14, 16, 20, 24, 26, 24,
                18, 9]
MENTION = re.compile(r"tg://user\?id=(\d+)")
TAG = re.compile(r"<[^>]+>")
BAR_WIDTH = 24


@dataclass(frozen=True)
class Action:
    kind: str  # start | claim | join | request | block | say | sticker | leave
    uid: int
    arg: str | None = None


@dataclass
class Plan:
    """What the world does, minute by minute (claims are added as greetings appear)."""

    people: int
    minutes: int
    actions: dict[int, list[Action]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, tuple[str, str]] = field(default_factory=dict)
    claimers: dict[int, int] = field(default_factory=dict)  # uid -> minutes after the greeting
    burst: set[int] = field(default_factory=set)
    burst_at: int = 0

    def at(self, minute: int, action: Action) -> None:
        if minute < self.minutes - 1:
            self.actions[minute].append(action)


def build_plan(members: int, seed: int, hours: int) -> Plan:
    """A deterministic crowd: who arrives when, by which way, and what they do afterwards."""
    rng = random.Random(seed)
    plan = Plan(people=members, minutes=hours * 60)
    last_arrival = max(1, plan.minutes - 45)  # leave time to greet the last ones
    weights = [HOUR_WEIGHTS[(m // 60) % 24] for m in range(last_arrival)]
    plan.burst_at = burst_at = max(0, min(20 * 60, plan.minutes - 120))  # the evening Q&A
    burst = min(60, members // 5)
    plan.burst = set(range(10_000, 10_000 + burst))
    for index in range(members):
        uid = 10_000 + index
        zh = rng.random() < 0.65
        name = rng.choice(ZH_NAMES if zh else EN_NAMES)
        plan.names[uid] = (name, rng.choice(["zh-hans", "zh"]) if zh else "en")
        if index < burst:
            arrive, way = burst_at + index * 3 // burst, "qa"
        else:
            arrive = rng.choices(range(last_arrival), weights)[0]
            way = rng.choices(["deeplink", "link", "request", "plain"], [40, 30, 20, 10])[0]
        joined_at = arrive + 1
        if way == "deeplink":
            plan.at(arrive, Action("start", uid, f"src_{rng.choice(CHANNELS)}"))
            joined_at = arrive + rng.randint(1, 30) if rng.random() < 0.85 else plan.minutes
            plan.at(joined_at, Action("join", uid))
        elif way == "request":
            if rng.random() < 0.25:  # about 5% of everyone: blocked the bot before it wrote
                plan.at(arrive, Action("block", uid))
            plan.at(arrive, Action("request", uid, REQUEST_LINK))
            joined_at = arrive + 2
        else:
            link = {"qa": QA_LINK, "link": rng.choice(LINK_NAMES), "plain": None}[way]
            plan.at(arrive, Action("join", uid, link))
            if rng.random() < 0.4:
                plan.claimers[uid] = rng.randint(1, 40)
        _plan_afterwards(plan, rng, uid, joined_at)
    return plan


def _plan_afterwards(plan: Plan, rng: random.Random, uid: int, joined_at: int) -> None:
    """Chat, stickers and leaving, at random times after joining."""
    later = range(joined_at + 1, plan.minutes)
    if not later:
        return
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 4)):
            plan.at(rng.choice(later), Action("say", uid, rng.choice(CHATTER)))
    if rng.random() < 0.08:
        plan.at(rng.choice(later), Action("sticker", uid))
    if rng.random() < 0.04:
        plan.at(rng.choice(later), Action("leave", uid))


class Community:
    """The plan played against the sandbox, one virtual minute at a time, with the bot running."""

    def __init__(self, plan: Plan, sandbox: TelegramSandbox, app: SopBot,
                 clock: ManualClock) -> None:
        self.plan, self.sandbox, self.app, self.clock = plan, sandbox, app, clock
        self.links = {name: sandbox.world.new_invite_link(COMMUNITY, name=name)["invite_link"]
                      for name in [*LINK_NAMES, QA_LINK]}
        self.links[REQUEST_LINK] = sandbox.world.new_invite_link(
            COMMUNITY, name=REQUEST_LINK, creates_join_request=True)["invite_link"]
        self.joined: set[int] = set()
        self.in_group: set[int] = set()
        self.left = self.claimed = self.blocked = 0
        self._seen_approvals = self._seen_group = self._seen_calls = 0

    def act(self, minute: int) -> bool:
        """Everything the world does this minute; whether anything happened."""
        actions = self.plan.actions.pop(minute, [])
        for action in actions:
            self._do(action)
        return bool(actions)

    def _do(self, a: Action) -> None:
        sb = self.sandbox
        if a.uid not in sb.world.users:
            name, language = self.plan.names[a.uid]
            sb.add_user(a.uid, name, language_code=language)
        if a.kind in ("say", "sticker", "leave") and a.uid not in self.in_group:
            return  # never made it into the group (or already left)
        if a.kind == "start":
            sb.user_sends(a.uid, f"/start {a.arg}")
        elif a.kind == "claim":
            sb.user_sends(a.uid, "/start gift")
            self.claimed += 1
        elif a.kind == "block":
            sb.block_bot(a.uid)
            self.blocked += 1
        elif a.kind == "request":
            sb.join_request(COMMUNITY, a.uid, invite_link=self.links[a.arg or REQUEST_LINK])
        elif a.kind == "join":
            sb.user_joins(COMMUNITY, a.uid, invite_link=a.arg and self.links[a.arg])
            self.joined.add(a.uid)
            self.in_group.add(a.uid)
        elif a.kind == "say":
            sb.user_sends(a.uid, a.arg or "👋", chat_id=COMMUNITY)
        elif a.kind == "sticker":
            sb.user_sends_sticker(a.uid, chat_id=COMMUNITY)
        elif a.kind == "leave":
            sb.user_leaves(COMMUNITY, a.uid)
            self.in_group.discard(a.uid)
            self.left += 1

    def observe(self, minute: int) -> None:
        """React to the bot: approved requesters are in; greeted people may claim their gift."""
        approved = self.sandbox.approved_requests
        for _, uid in approved[self._seen_approvals:]:
            self.joined.add(uid)
            self.in_group.add(uid)
        self._seen_approvals = len(approved)
        group = self.sandbox.sent_messages(COMMUNITY)
        for message in group[self._seen_group:]:
            for uid in map(int, MENTION.findall(message.text)):
                if uid in self.plan.claimers:
                    self.plan.at(minute + self.plan.claimers.pop(uid), Action("claim", uid))
        self._seen_group = len(group)

    async def settle(self, timeout: float = 30.0) -> None:
        """Like ``SopBot.wait_idle``, but when the bot only waits for its rate limiter (no
        call for 50 ms) the clock moves on a second, as real time would."""
        loop = asyncio.get_running_loop()
        stalled = loop.time()
        deadline, quiet = stalled + timeout, 0
        while quiet < 3:
            if loop.time() > deadline:
                raise RuntimeError(f"the bot is still busy after {timeout:.0f} s "
                                   f"({self.app.delivery.held} messages held)")
            idle = self._looks_idle() and (quiet < 2 or await self.app.is_idle())
            quiet = quiet + 1 if idle else 0
            if not idle and self._bot_called_api():
                stalled = loop.time()
            elif not idle and loop.time() - stalled > 0.05 and not self.sandbox.pending_updates():
                self.clock.advance(seconds=1)
                stalled = loop.time()
            await asyncio.sleep(0.002)

    def _looks_idle(self) -> bool:
        """No update queued or being handled (the cheap part of ``SopBot.is_idle``)."""
        runtime = self.app.runtime
        return self.sandbox.pending_updates() == 0 and (runtime is None
                                                         or runtime.updates_in_flight == 0)

    def _bot_called_api(self) -> bool:
        """Whether the bot called the API (getUpdates aside) since the last look."""
        calls = self.sandbox.calls
        new = any(call.method != "getUpdates" for call in calls[self._seen_calls:])
        self._seen_calls = len(calls)
        return new


class Progress:
    """A bar on stderr (a TTY), or a line every three virtual hours."""

    def __init__(self, enabled: bool, total_minutes: int, people: int) -> None:
        self.bar = enabled and sys.stderr.isatty()
        self.total, self.people = total_minutes, people
        self._shown = 0.0
        self._last_hour = -1

    def show(self, minute: int, joined: int, sent: int, *, final: bool = False) -> None:
        clock = (DAY_START + timedelta(minutes=minute)).strftime("%H:%M")
        status = f"{clock}  joined {joined}/{self.people}  sent {sent}"
        if not self.bar:
            if minute // 180 != self._last_hour or final:
                self._last_hour = minute // 180
                print(f"  {status}", file=sys.stderr, flush=True)
            return
        now = time.monotonic()
        if not final and now - self._shown < 0.1:
            return
        self._shown = now
        filled = BAR_WIDTH * min(minute + 1, self.total) // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        end = "\n" if final else ""
        print(f"\r[{bar}] {status}  ", end=end, file=sys.stderr, flush=True)


async def play_day(community: Community, progress: Progress) -> None:
    """Minute by minute; up to five at once while the world and the bot are quiet."""
    plan, clock = community.plan, community.clock
    minute, busy_until = 0, 0
    while minute < plan.minutes:
        if community.act(minute):
            busy_until = minute + 2  # a greeting batch closes 2 minutes after a join
        await community.settle()
        community.observe(minute)
        progress.show(minute, len(community.joined), len(community.sandbox.sent_messages()))
        step = 1
        if minute >= busy_until:
            while step < 5 and minute + step not in plan.actions:
                step += 1
        step = min(step, plan.minutes - 1 - minute) or 1
        minute += step
        target = DAY_START + timedelta(minutes=min(minute, plan.minutes - 1))
        if target > clock.now():
            clock.set(target)
    progress.show(plan.minutes - 1, len(community.joined),
                  len(community.sandbox.sent_messages()), final=True)


async def ask_kpi(community: Community) -> str:
    """The operator's ``/kpi`` in private, answered as plain text."""
    sandbox = community.sandbox
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, "/kpi")
    for _ in range(100):
        await community.settle()
        if len(sandbox.sent_messages(OPERATOR)) > before:
            return html.unescape(TAG.sub("", sandbox.sent_messages(OPERATOR)[-1].text))
        await asyncio.sleep(0.05)
    raise RuntimeError("the operator got no answer to /kpi")


def busiest_minute(stamps: list[float]) -> int:
    """The most messages in any 60 seconds."""
    best, first = 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 60:
            first += 1
        best = max(best, last - first + 1)
    return best


def report(community: Community, plan: Plan, kpi: str, seconds: float) -> str:
    """The operator's /kpi, then the figures the sandbox measured in this run."""
    sb = community.sandbox
    sent = sb.sent_messages()
    group = sb.sent_messages(COMMUNITY)
    greetings = [{int(uid) for uid in MENTION.findall(m.text)} for m in group]
    greetings = [mentioned for mentioned in greetings if mentioned]
    codes = Counter(c.error_code for c in sb.calls
                    if not c.ok and c.error_code != 429 and c.method != "getUpdates")
    private = sum(1 for m in sent if m.chat_id > 0)
    saw = {
        "messages the bot sent": f"{len(sent)} (group {len(sent) - private}, private {private})",
        "group greetings": f"{len(greetings)} for {len(community.joined)} joiners; most in "
                           f"any 60 s: {busiest_minute([m.at for m in group])} "
                           f"(limit {sb.limits.group_per_minute})",
        f"the {DAY_START + timedelta(minutes=plan.burst_at):%H:%M} burst":
            f"{len(plan.burst)} joined within 3 minutes, greeted in "
            f"{sum(1 for mentioned in greetings if mentioned & plan.burst)} messages",
        "429 answers": f"{sb.count_errors(429)}; early retries {sb.early_retries}",
        "other API errors": ", ".join(f"{code} ×{n}" for code, n in sorted(
            codes.items(), key=str)) or "none",
        "sent twice": f"{len(sent) - len({(m.chat_id, m.text) for m in sent})} "
                      "(the same text to the same chat again)",
        "join requests approved": str(len(sb.approved_requests)),
        "real time": f"{seconds:.1f} s",
    }
    return "\n".join([
        f"sopbot demo: {plan.minutes // 60} virtual hours of \"Demo community\" on "
        f"{DAY_START:%Y-%m-%d} (Asia/Shanghai), {plan.people} simulated people",
        f"the simulation: {len(community.joined)} joined the group, {community.left} left, "
        f"{community.blocked} had blocked the bot, {community.claimed} claimed the gift "
        "from the greeting",
        "", "/kpi, as the operator sees it:", "",
        *(f"  {line}".rstrip() for line in kpi.splitlines()),
        "", "what the sandbox saw:",
        *(f"  {label:<24}{value}" for label, value in saw.items()),
    ])


async def run_demo(members: int = 300, seed: int = 7, progress: bool = True,
                   hours: int = 24) -> int:
    """Plays the day and prints the report; 0 on success, 1 (with a one-line error) if not."""
    started = time.monotonic()
    plan = build_plan(members, seed, max(1, min(hours, 24)))
    clock = ManualClock(DAY_START)
    sandbox = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sandbox.add_chat(COMMUNITY, "supergroup", "Demo community")
    sandbox.add_chat(TEAM_CHAT, "supergroup", "Team")
    sandbox.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    app: SopBot | None = None
    with tempfile.TemporaryDirectory(prefix="sopbot-demo-", ignore_cleanup_errors=True) as tmp:
        try:
            await sandbox.start()
            settings = Settings(bot_token=SecretStr(TOKEN), telegram_api_url=sandbox.url,
                                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}")
            app = SopBot(settings, parse_config(CONFIG_YAML, "bot/demo.py"), clock=clock,
                         polling_timeout=1)
            await app.start()
            community = Community(plan, sandbox, app, clock)
            await play_day(community, Progress(progress, plan.minutes, members))
            kpi = await ask_kpi(community)
            print(report(community, plan, kpi, time.monotonic() - started))
            return 0
        except Exception as error:  # noqa: BLE001 - the demo explains in one line
            print(f"\ndemo failed: {one_line(error)}", file=sys.stderr)
            return 1
        finally:
            await shut_down(app, sandbox)


async def shut_down(app: SopBot | None, sandbox: TelegramSandbox) -> None:
    """Stops the bot, then the sandbox; a failure here is told in one line, not raised."""
    for stop in ([app.stop] if app is not None else []) + [sandbox.stop]:
        try:
            await stop()
        except Exception as error:  # noqa: BLE001
            print(f"demo: shutting down: {one_line(error)}", file=sys.stderr)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
