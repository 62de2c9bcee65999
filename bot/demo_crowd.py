"""The demo's simulated world: a seeded crowd and the operator, played minute by minute against
the Telegram sandbox (see ``bot.demo``, which runs the bot and prints what happened).

The crowd arrives (deep links, invite links, join requests, plain joins, the Q&A burst), chats,
asks questions, says the hook words ("666", "想要指南", "vip"), reserves a seat for the evening
Q&A with the announcement's button, claims its gift, leaves, blocks the bot. The operator feeds
the morning briefing and the Q&A topic and answers some questions in the group, as replies,
a few minutes later. Nothing here reads the bot's database: only what the sandbox shows.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import SopBot
from bot.idle import is_idle
from sandbox import TelegramSandbox
from sop.clock import ManualClock

COMMUNITY, TEAM_CHAT, OPERATOR = -1002001, -1005001, 1001
TZ = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2026, 11, 20, tzinfo=TZ)
CHANNELS = ["douyin", "xhs", "wechat", "bilibili"]
LINK_NAMES = ["wechat-article", "bilibili-video", "xhs-note", "kol-partner"]
QA_LINK, REQUEST_LINK = "evening-qa", "douyin-live"
ZH_NAMES = [
    "小明",
    "王芳",
    "李娜",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄丽",
    "周杰",
    "吴敏",
    "徐婷",
    "孙浩",
    "马超",
    "朱琳",
    "胡军",
]
EN_NAMES = [
    "Alice",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Henry",
    "Iris",
    "Jack",
    "Kate",
    "Leo",
    "Mia",
    "Noah",
    "Ruby",
]
#: real seconds a minute of the demo may take to settle before it gives up
SETTLE_WITHIN = 30.0
#: what the operator answers when they get to a question (a question mark is how they spot one)
ANSWERS = {
    "请问优惠券怎么用？": "结算时输入券码就行 👌",
    "今晚几点开始？": "今晚 8 点，记得预约哦",
    "Where is the beginner's guide?": "Reply 666 and the bot sends it to you",
    "直播回放在哪里看？": "回放在频道置顶",
    "新人礼包怎么领？": "点欢迎消息下面的按钮就能领",
    "Can I invite my friends here?": "Sure, the more the merrier!",
    "请问下周还有答疑吗？": "有的，每天晚上都有",
}
CHATTER = [
    "大家好！",
    "谢谢分享 👍",
    "Hi all!",
    "Great session today",
    "收到，感谢",
    *ANSWERS,
    "666",
    "想要指南",
    "求 vip 💎",
]
HOOK_WORDS = ("666", "指南", "vip")
BRIEF_ITEMS = ["行业新闻：A 公司发布新品", "今晚 20:00 答疑，记得预约", "新人礼包本周 8 折"]
QA_TOPIC = "如何用社群做复购"
#: how many join per hour of the day, relative (night quiet, evening busy)
HOUR_WEIGHTS = [
    3,
    2,
    1,
    1,
    1,
    2,
    4,
    8,
    12,
    14,
    15,
    15,
    18,
    15,
    13,
    13,
    14,
    16,
    20,
    24,
    26,
    24,
    18,
    9,
]
SLA_MINUTES = 5  # first_response.within in the demo's config
OPERATOR_HOURS = range(9, 23)  # local hours in which the operator reads the group
MENTION = re.compile(r"tg://user\?id=(\d+)")


@dataclass(frozen=True)
class Action:
    kind: str  # start | claim | join | request | block | say | sticker | leave | rsvp | operator
    uid: int
    arg: str | None = None
    reply_to: int | None = None


@dataclass
class Plan:
    """What the world does, minute by minute (claims, RSVPs and operator answers are added as
    the bot's messages appear)."""

    people: int
    minutes: int
    actions: dict[int, list[Action]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, tuple[str, str]] = field(default_factory=dict)
    claimers: dict[int, int] = field(default_factory=dict)  # uid -> minutes after the greeting
    rsvpers: dict[int, int] = field(default_factory=dict)  # uid -> minutes after the Q&A post
    burst: set[int] = field(default_factory=set)
    burst_at: int = 0

    def at(self, minute: int, action: Action) -> None:
        if minute < self.minutes - 1:
            self.actions[minute].append(action)


def build_plan(members: int, seed: int, hours: int) -> Plan:
    """A deterministic crowd: who arrives when, by which way, and what they do afterwards."""
    rng = random.Random(seed)
    plan = Plan(people=members, minutes=hours * 60)
    day = f"{DAY_START:%Y-%m-%d}"
    for item in BRIEF_ITEMS:  # the evening before, in effect: first thing in the run
        plan.at(0, Action("operator", OPERATOR, f"/brief add {day} {item}"))
    plan.at(9 * 60, Action("operator", OPERATOR, f"/qa topic {QA_TOPIC}"))
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
    """Chat, stickers, a seat at the Q&A and leaving, at random times after joining."""
    later = range(joined_at + 1, plan.minutes)
    if not later:
        return
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 4)):
            plan.at(rng.choice(later), Action("say", uid, rng.choice(CHATTER)))
    if rng.random() < 0.08:
        plan.at(rng.choice(later), Action("sticker", uid))
    if rng.random() < 0.25:
        plan.rsvpers[uid] = rng.randint(1, 7 * 60)  # between 12:00 and 19:00, if still here
    if rng.random() < 0.04:
        plan.at(rng.choice(later), Action("leave", uid))


@dataclass
class Asked:
    """A member's message the demo tracks: a question or a hook word, and who sent it when."""

    uid: int
    text: str
    at: float
    answered_after: float | None = None  # the operator's reply, seconds after the question


@dataclass
class Seat:
    """One press of the Q&A button and what the bot answered it."""

    uid: int
    query_id: str
    answer: str | None = None
    no_dm: bool = False
    started_after: bool = False  # did /start when told to


class Community:
    """The plan played against the sandbox, one virtual minute at a time, with the bot running."""

    def __init__(
        self, plan: Plan, sandbox: TelegramSandbox, app: SopBot, clock: ManualClock, seed: int
    ) -> None:
        self.plan, self.sandbox, self.app, self.clock = plan, sandbox, app, clock
        self.rng = random.Random(seed * 7919 + 1)
        self.links = {
            name: sandbox.world.new_invite_link(COMMUNITY, name=name)["invite_link"]
            for name in [*LINK_NAMES, QA_LINK]
        }
        self.links[REQUEST_LINK] = sandbox.world.new_invite_link(
            COMMUNITY, name=REQUEST_LINK, creates_join_request=True
        )["invite_link"]
        self.joined: set[int] = set()
        self.in_group: set[int] = set()
        self.left = self.claimed = self.blocked = 0
        self.questions: dict[int, Asked] = {}  # group message id -> question asked
        self.deadlines: set[int] = set()  # minutes just past a question's SLA
        self.hook_says: dict[int, Asked] = {}  # group message id -> hook word said
        self.seats: list[Seat] = []
        self.qa_post: tuple[int, str] | None = None  # (message id, callback data)
        self._seen_approvals = self._seen_group = self._seen_calls = 0

    def act(self, minute: int) -> bool:
        """Everything the world does this minute; whether anything happened."""
        actions = self.plan.actions.pop(minute, [])
        for action in actions:
            self._do(action, minute)
        return bool(actions)

    def _do(self, a: Action, minute: int) -> None:
        sb = self.sandbox
        if a.uid not in sb.world.users:
            name, language = self.plan.names[a.uid]
            sb.add_user(a.uid, name, language_code=language)
        if a.kind in ("say", "sticker", "leave", "rsvp") and a.uid not in self.in_group:
            return  # never made it into the group (or already left)
        if a.kind == "start":
            sb.user_sends(a.uid, f"/start {a.arg}" if a.arg else "/start")
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
            self._say(a.uid, a.arg or "👋", minute)
        elif a.kind == "sticker":
            sb.user_sends_sticker(a.uid, chat_id=COMMUNITY)
        elif a.kind == "leave":
            sb.user_leaves(COMMUNITY, a.uid)
            self.in_group.discard(a.uid)
            self.left += 1
        elif a.kind == "rsvp" and self.qa_post is not None:
            message_id, data = self.qa_post
            update = sb.press_button(a.uid, message_id, COMMUNITY, data)
            self.seats.append(Seat(a.uid, update["callback_query"]["id"]))
        elif a.kind == "operator":
            self._operator(a)

    def _say(self, uid: int, text: str, minute: int) -> None:
        update = self.sandbox.user_sends(uid, text, chat_id=COMMUNITY)
        message_id, now = update["message"]["message_id"], self.clock.timestamp()
        if text.rstrip().endswith(("?", "？")):
            self.questions[message_id] = Asked(uid, text, now)
            self.deadlines.add(minute + SLA_MINUTES + 1)
            local_hour = (DAY_START + timedelta(minutes=minute)).hour
            if local_hour in OPERATOR_HOURS and self.rng.random() < 0.55:
                delay = self.rng.choice([1, 2, 2, 3, 3, 4, 4, 7, 9])  # some after the SLA
                self.plan.at(
                    minute + delay,
                    Action("operator", OPERATOR, ANSWERS.get(text, "我看看 👀"), message_id),
                )
        elif any(word in text.lower() for word in HOOK_WORDS):
            self.hook_says[message_id] = Asked(uid, text, now)

    def _operator(self, a: Action) -> None:
        text = a.arg or ""
        if a.reply_to is None:  # a command, in private
            self.sandbox.user_sends(OPERATOR, text)
            return
        self.sandbox.user_sends(OPERATOR, text, chat_id=COMMUNITY, reply_to_message_id=a.reply_to)
        asked = self.questions[a.reply_to]
        asked.answered_after = self.clock.timestamp() - asked.at

    def observe(self, minute: int) -> None:
        """React to the bot: approved requesters are in; greeted people may claim their gift;
        the Q&A post gets its seats; told to /start first, some do."""
        approved = self.sandbox.approved_requests
        for _, uid in approved[self._seen_approvals :]:
            self.joined.add(uid)
            self.in_group.add(uid)
        self._seen_approvals = len(approved)
        group = self.sandbox.sent_messages(COMMUNITY)
        for message in group[self._seen_group :]:
            for uid in map(int, MENTION.findall(message.text)):
                if uid in self.plan.claimers:
                    self.plan.at(minute + self.plan.claimers.pop(uid), Action("claim", uid))
            data = rsvp_data(message.reply_markup)
            if data is not None and self.qa_post is None:
                self.qa_post = (message.message_id, data)
                for uid, delay in self.plan.rsvpers.items():
                    self.plan.at(minute + delay, Action("rsvp", uid))
        self._seen_group = len(group)
        queries = self.sandbox.world.callback_queries
        for seat in self.seats:
            answer = queries.get(seat.query_id, {}).get("answer")
            if seat.answer is None and answer is not None:
                seat.answer, seat.no_dm = answer.get("text") or "", bool(answer.get("show_alert"))
                if seat.no_dm and self.rng.random() < 0.6:  # "send me /start first"
                    seat.started_after = True
                    self.plan.at(minute + self.rng.randint(1, 3), Action("start", seat.uid))

    async def settle(self) -> None:
        """Like ``bot.idle.wait_idle``, but when the bot only waits for its rate limiter (no
        call for 50 ms) the clock moves on a second, as real time would. ``RuntimeError`` when
        the bot is still busy after ``SETTLE_WITHIN`` seconds of real time."""
        loop = asyncio.get_running_loop()
        stalled = loop.time()
        deadline, quiet = stalled + SETTLE_WITHIN, 0
        while quiet < 3:
            if loop.time() > deadline:
                raise RuntimeError(
                    f"the bot is still busy after {SETTLE_WITHIN:.0f} s "
                    f"({self.app.delivery.held} messages held)"
                )
            idle = self._looks_idle() and (quiet < 2 or await is_idle(self.app))
            quiet = quiet + 1 if idle else 0
            if not idle and self._bot_called_api():
                stalled = loop.time()
            elif not idle and loop.time() - stalled > 0.05 and not self.sandbox.pending_updates():
                self.clock.advance(seconds=1)
                stalled = loop.time()
            await asyncio.sleep(0.002)

    def _looks_idle(self) -> bool:
        """No update queued or being handled (the cheap part of ``bot.idle.is_idle``)."""
        runtime = self.app.runtime
        return self.sandbox.pending_updates() == 0 and (
            runtime is None or runtime.updates_in_flight == 0
        )

    def _bot_called_api(self) -> bool:
        """Whether the bot called the API (getUpdates aside) since the last look."""
        calls = self.sandbox.calls
        new = any(call.method != "getUpdates" for call in calls[self._seen_calls :])
        self._seen_calls = len(calls)
        return new


def rsvp_data(markup: dict[str, Any] | None) -> str | None:
    """The callback data of a post's first inline button, if it is a Q&A seat (``rsvp:<id>``)."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if isinstance(data, str) and data.startswith("rsvp:"):
                return data
    return None
