"""``sopbot demo``: one virtual day of a simulated community, in seconds, offline.

What it shows: the real bot (``bot.app.SopBot``: aiogram, SQLite, the outbox and its rate
limiter) runs against the in-repo Telegram sandbox over real HTTP, on a virtual clock stepped a
minute at a time (up to five while nothing happens) from 00:00 to 23:59 in Asia/Shanghai.
A seeded crowd (``bot.demo_crowd``) arrives the ways people do: ``/start src_<channel>`` deep
links, named invite links, join requests (the bot DMs the gift, then approves), plain joins, a
burst of 60 at the 20:00 Q&A; they chat, ask questions, reply "666" for the guide, reserve a
seat at the evening Q&A, post stickers, leave, block the bot, claim their gift from the group
greeting. The operator adds the morning briefing's items and the Q&A topic, and answers some
questions in the group. The daily SOP runs from the config below: the 08:00 briefing, the
12:00 Q&A announcement with its 20:00 reminders, keyword hooks, the 5-minute first response
(an FAQ answer or an escalation to the team chat when no one answered in time).

At the end the operator sends ``/kpi`` and the demo prints the answer, then what the sandbox
measured: messages sent, greetings and the busiest minute in the group against Telegram's limit
of 20, the SOP's posts and replies, 429 answers and other errors, messages sent twice.
"""

from __future__ import annotations

import asyncio
import html
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import SopBot
from bot.config import Settings, parse_config
from bot.demo_crowd import (
    BRIEF_ITEMS,
    COMMUNITY,
    DAY_START,
    MENTION,
    OPERATOR,
    QA_TOPIC,
    SLA_MINUTES,
    TEAM_CHAT,
    TZ,
    Community,
    Plan,
    Seat,
    build_plan,
    rsvp_data,
)
from sandbox import TelegramSandbox
from sandbox.records import SentMessage
from sop.clock import ManualClock

TOKEN = "777000:DEMO-offline-sandbox-token"
SLA_SECONDS = SLA_MINUTES * 60
CONFIG_YAML = f"""
timezone: Asia/Shanghai
default_locale: zh
team: {{operators: [{OPERATOR}], chat: {TEAM_CHAT}}}
communities: [{{chat_id: {COMMUNITY}, title: Demo community}}]
welcome: {{within: 30m, group_batch: 2m, template: welcome, gift_coupon: newcomer}}
coupons:
  newcomer: {{title: 新人礼包, discount: "20%", valid_days: 7, per_member: 1}}
schedules:
  - {{id: morning_briefing, cron: "0 8 * * *", template: morning_briefing}}
  - {{id: evening_qa, cron: "0 12 * * *", template: evening_qa, starts_at: "20:00"}}
hooks:
  - {{id: guide, keywords: ["666", "指南"], template: guide, tag: "interest:guide"}}
  - {{id: vip, keywords: ["vip"], template: guide, coupon: newcomer}}
first_response:
  within: {SLA_SECONDS // 60}m
  faq:
    - {{q: 优惠券怎么使用？, a: 结算页输入券码即可，新人券 7 天内有效。}}
    - {{q: 今晚几点开始？, a: 今晚 20:00 答疑，点群里答疑通知下的按钮预约。}}
    - {{q: "Where is the beginner's guide?", a: "Reply 666 in the group and it comes to you."}}
    - {{q: 直播回放在哪里看？, a: 回放在频道置顶，直播后 24 小时内上传。}}
"""
LINK = re.compile(r"https://t\.me/c/\d+/(\d+)")
TAG = re.compile(r"<[^>]+>")
BAR_WIDTH = 24


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
    """Minute by minute; up to five at once while the world and the bot are quiet, never past
    a schedule's fire or a question's deadline (the bot would act late, as if it had been down)."""
    plan, clock = community.plan, community.clock
    minute, busy_until = 0, 0
    while minute < plan.minutes:
        if community.act(minute):
            busy_until = minute + 2  # a greeting batch closes 2 minutes after a join
        await community.settle()
        community.observe(minute)
        progress.show(minute, len(community.joined), len(community.sandbox.sent_messages()))
        step, stop = 1, next_stop(community, minute)
        if minute >= busy_until:
            while step < 5 and minute + step not in plan.actions and minute + step < stop:
                step += 1
        step = min(step, plan.minutes - 1 - minute) or 1
        minute += step
        target = DAY_START + timedelta(minutes=min(minute, plan.minutes - 1))
        if target > clock.now():
            clock.set(target)
    progress.show(
        plan.minutes - 1, len(community.joined), len(community.sandbox.sent_messages()), final=True
    )


def next_stop(community: Community, minute: int) -> int:
    """The first minute after ``minute`` at which the bot has something due: the next fire of a
    schedule (from the bot's own engine) or a minute after a question's first-response deadline."""
    now = DAY_START + timedelta(minutes=minute)
    engine = community.app.config.loaded.engine
    fires = [
        fire
        for s in community.app.config.current.schedules
        if (fire := engine.next_fire(s.id, now)) is not None
    ]
    stops = [int((fire - DAY_START).total_seconds() // 60) for fire in fires]
    stops += [due for due in community.deadlines if due > minute]
    return min(stops, default=community.plan.minutes)


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
    codes = Counter(
        c.error_code
        for c in sb.calls
        if not c.ok and c.error_code != 429 and c.method != "getUpdates"
    )
    private = sum(1 for m in sent if m.chat_id > 0)
    to_members = [m for m in sent if m.chat_id != OPERATOR]  # "added ✓" thrice is fine
    saw = {
        "messages the bot sent": f"{len(sent)} (group {len(sent) - private}, private {private})",
        "group greetings": f"{len(greetings)} for {len(community.joined)} joiners; most in "
        f"any 60 s: {busiest_minute([m.at for m in group])} "
        f"(limit {sb.limits.group_per_minute})",
        f"the {DAY_START + timedelta(minutes=plan.burst_at):%H:%M} burst": (
            f"{len(plan.burst)} joined within 3 minutes, greeted in "
            f"{sum(1 for mentioned in greetings if mentioned & plan.burst)} messages"
        ),
        **sop_figures(community),
        "429 answers": f"{sb.count_errors(429)}; early retries {sb.early_retries}",
        "other API errors": ", ".join(f"{code} ×{n}" for code, n in sorted(codes.items(), key=str))
        or "none",
        "sent twice": f"{len(to_members) - len(set(map(sameness, to_members)))} (the same "
        "text to the same chat again, replying to the same; operator aside)",
        "join requests approved": str(len(sb.approved_requests)),
        "real time": f"{seconds:.1f} s",
    }
    return "\n".join(
        [
            f'sopbot demo: {plan.minutes // 60} virtual hours of "Demo community" on '
            f"{DAY_START:%Y-%m-%d} (Asia/Shanghai), {plan.people} simulated people",
            f"the simulation: {len(community.joined)} joined the group, {community.left} left, "
            f"{community.blocked} had blocked the bot, {community.claimed} claimed the gift "
            "from the greeting",
            f"  asked {len(community.questions)} questions (the operator answered "
            f"{sum(1 for q in community.questions.values() if q.answered_after is not None)} "
            f"in the group); said a hook word {len(community.hook_says)} times; pressed the Q&A "
            f"button {len(community.seats)} times",
            "",
            "/kpi, as the operator sees it:",
            "",
            *(f"  {line}".rstrip() for line in kpi.splitlines()),
            "",
            "what the sandbox saw:",
            *(f"  {label:<24}{value}" for label, value in saw.items()),
        ]
    )


def sop_figures(community: Community) -> dict[str, str]:
    """The daily SOP as the sandbox saw it: posts found by their content (the briefing's items,
    the Q&A button), replies by the member message they answer, escalations by their link."""
    sb = community.sandbox
    group = sb.sent_messages(COMMUNITY)
    briefing = next((m for m in group if any(item in m.text for item in BRIEF_ITEMS)), None)
    qa_post = next((m for m in group if rsvp_data(m.reply_markup)), None)
    replies = Counter(m.reply_to_message_id for m in group)
    faq = sum(replies[message_id] for message_id in community.questions)
    hook_group = sum(replies[message_id] for message_id in community.hook_says)
    hook_dm = sum(
        1
        for said in community.hook_says.values()
        for m in sb.sent_messages(said.uid)
        if said.at <= m.at < said.at + 120 and "vip" in said.text.lower()
    )
    linked = [int(found) for m in sb.sent_messages(TEAM_CHAT) for found in LINK.findall(m.text)]
    answered = sorted(
        q.answered_after for q in community.questions.values() if q.answered_after is not None
    )
    seats = community.seats
    no_dm = [seat for seat in seats if seat.no_dm]
    reminders = [
        m
        for seat in seats
        for m in sb.sent_messages(seat.uid)
        if QA_TOPIC in m.text and qa_post is not None and m.at > qa_post.at
    ]
    remind_times = sorted({local(m.at) for m in reminders})
    return {
        "morning briefing": f"sent {local(briefing.at, seconds=True)}, "
        f"{sum(item in briefing.text for item in BRIEF_ITEMS)} of "
        f"{len(BRIEF_ITEMS)} items"
        if briefing
        else "not sent",
        "Q&A announcement": f"sent {local(qa_post.at, seconds=True)}, "
        f"topic {'in it' if QA_TOPIC in qa_post.text else 'missing'}"
        if qa_post
        else "not sent",
        "Q&A seats": f"{len(seats)} pressed, {len(seats) - len(no_dm)} confirmed, {len(no_dm)} "
        f"told to /start the bot first ({sum(s.started_after for s in no_dm)} did)",
        "Q&A reminders": f"{len(reminders)} delivered by DM"
        + (f" at {', '.join(remind_times)}" if remind_times else "")
        + f", {sum(1 for m in reminders if seat_of(m, no_dm))} of them to the "
        "ones told to /start first",
        "hook replies": f"{hook_group} in the group, {hook_dm} by DM, to "
        f"{len(community.hook_says)} messages with a hook word",
        "operator answers": f"{len(answered)} in the group, "
        f"{sum(1 for t in answered if t <= SLA_SECONDS)} within "
        f"{SLA_SECONDS // 60} min"
        + (f", median {statistics.median(answered) / 60:.1f} min" if answered else ""),
        "FAQ auto-answers": f"{faq} in the group, replying to {len(community.questions)} "
        "questions asked",
        "escalations": f"{len(linked)} to the team chat, "
        f"{sum(1 for i in linked if i in community.questions)} linking to a "
        "question asked",
    }


def sameness(message: SentMessage) -> tuple[int, str, int | None]:
    """Two messages alike in this are one message sent twice (a hook's or the FAQ's reply is
    the same text each time, but to a different member's message)."""
    return message.chat_id, message.text, message.reply_to_message_id


def seat_of(message: SentMessage, seats: list[Seat]) -> bool:
    return any(seat.uid == message.chat_id for seat in seats)


def local(stamp: float, *, seconds: bool = False) -> str:
    return datetime.fromtimestamp(stamp, TZ).strftime("%H:%M:%S" if seconds else "%H:%M")


async def run_demo(
    members: int = 200, seed: int = 7, progress: bool = True, hours: int = 24
) -> int:
    """Plays the day and prints the report; 0 on success, 1 (with a one-line error) if not."""
    started = time.monotonic()
    plan = build_plan(members, seed, max(1, min(hours, 24)))
    clock = ManualClock(DAY_START)
    sandbox = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sandbox.add_chat(COMMUNITY, "supergroup", "Demo community")
    sandbox.add_chat(TEAM_CHAT, "supergroup", "Team")
    sandbox.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    sandbox.set_admin(COMMUNITY, OPERATOR)
    app: SopBot | None = None
    with tempfile.TemporaryDirectory(prefix="sopbot-demo-", ignore_cleanup_errors=True) as tmp:
        try:
            await sandbox.start()
            settings = Settings(
                bot_token=SecretStr(TOKEN),
                telegram_api_url=sandbox.url,
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}",
            )
            app = SopBot(
                settings, parse_config(CONFIG_YAML, "bot/demo.py"), clock=clock, polling_timeout=1
            )
            await app.start()
            community = Community(plan, sandbox, app, clock, seed)
            await play_day(community, Progress(progress, plan.minutes, members))
            kpi = await ask_kpi(community)
            print(report(community, plan, kpi, time.monotonic() - started))
            return 0
        except Exception as error:
            print(f"\ndemo failed: {one_line(error)}", file=sys.stderr)
            return 1
        finally:
            await shut_down(app, sandbox)


async def shut_down(app: SopBot | None, sandbox: TelegramSandbox) -> None:
    """Stops the bot, then the sandbox; a failure here is told in one line, not raised."""
    for stop in ([app.stop] if app is not None else []) + [sandbox.stop]:
        try:
            await stop()
        except Exception as error:
            print(f"demo: shutting down: {one_line(error)}", file=sys.stderr)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
