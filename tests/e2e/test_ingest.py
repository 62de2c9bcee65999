"""Ingest in bulk (``handlers/chatter.py``): a getUpdates batch's plain chatter is recorded in
one transaction, with today's guarantees — the same ledger as one message at a time, a batch
delivered again is a no-op, a failing update fails alone, a chat's updates keep their order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

import aiohttp
import pytest
from sqlalchemy import func, select, text

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ActivityDaily, DailyRollup, Member, ProcessedUpdate, Question
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, settings_for
from tests.e2e.helpers import WEBHOOK_SECRET, settle, webhook_settings

MEMBERS = list(range(31_001, 31_021))
CHATTER = ["大家好", "Hi all", "收到，感谢", "good morning"]
POISON = "POISON"


def bulk(app: SopBot) -> float:
    return app.metrics.registry.get_sample_value("sopbot_updates_bulk_total") or 0.0


def bulk_batches(app: SopBot) -> float:
    return app.metrics.registry.get_sample_value("sopbot_bulk_batches_total") or 0.0


async def scalar(app: SopBot, stmt: object) -> object:
    async with app.sessions() as session:
        return (await session.execute(stmt)).scalar_one()  # type: ignore[call-overload]


@dataclass(frozen=True)
class Ledger:
    """Everything plain chatter touches."""

    activity: dict[int, int]  # member → messages (one day, one community)
    rollups: list[tuple[date, int, int]]  # day, messages, active members
    members: dict[int, tuple[str, datetime | None]]  # member → name, last seen
    handled: int


async def ledger(app: SopBot) -> Ledger:
    async with app.sessions() as session:
        activity = await session.execute(select(ActivityDaily.user_id, ActivityDaily.messages))
        rollups = await session.execute(
            select(DailyRollup.day, DailyRollup.messages, DailyRollup.active_members)
        )
        members = await session.execute(
            select(Member.user_id, Member.first_name, Member.last_seen_at)
        )
        handled = await session.execute(select(func.count(ProcessedUpdate.update_id)))
        return Ledger(
            activity={uid: n for uid, n in activity},
            rollups=sorted((day, n, active) for day, n, active in rollups),
            members={uid: (name, seen) for uid, name, seen in members},
            handled=int(handled.scalar_one()),
        )


async def warm_up(app: SopBot, sandbox: TelegramSandbox) -> None:
    """Each member speaks once (the single path: the ledger does not know them yet)."""
    for uid in MEMBERS:
        sandbox.add_user(uid, f"M{uid}", language_code="zh")
        sandbox.set_admin(COMMUNITY, uid, "member")
        sandbox.user_sends(uid, "hello", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert bulk(app) == 0


def burst(sandbox: TelegramSandbox, n: int, members: list[int] = MEMBERS) -> list[int]:
    ids = []
    for i in range(n):
        update = sandbox.user_sends(members[i % len(members)], CHATTER[i % 4], chat_id=COMMUNITY)
        ids.append(update["update_id"])
    return ids


async def test_a_burst_of_chatter_is_recorded_in_bulk_as_one_at_a_time_would(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await warm_up(app, sandbox)
    burst(sandbox, 90)
    sandbox.add_user(MEMBERS[0], "Renamed", language_code="en")  # the last message's name wins
    sandbox.user_sends(MEMBERS[0], "see you", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert bulk(app) == 91
    after = await ledger(app)
    assert after.activity[MEMBERS[0]] == 1 + 5 + 1
    assert sum(after.activity.values()) == len(MEMBERS) + 91
    assert after.rollups == [(date(2026, 11, 20), len(MEMBERS) + 91, len(MEMBERS))]
    assert after.members[MEMBERS[0]][0] == "Renamed"
    assert after.members[MEMBERS[1]][0] == f"M{MEMBERS[1]}"
    assert all(seen is not None for _, seen in after.members.values())
    assert after.handled == len(MEMBERS) + 91
    assert sandbox.unconfirmed_updates() == 0


async def test_a_batch_delivered_again_after_a_crash_is_a_no_op(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    """The bot records a batch, then dies before its next getUpdates confirms it: the same
    batch comes to the next process, which counts nothing twice."""
    settings = settings_for(sandbox.url, database_url)
    first = SopBot(settings, config, clock=clock, polling_timeout=1)
    await first.start()
    try:
        await warm_up(first, sandbox)
        ids = burst(sandbox, 40)
        sandbox.delay("getUpdates", 8, only=lambda p: int(p.get("offset") or 0) > ids[-1])
        await sandbox.wait_for(lambda: bulk(first) == 40, timeout=15)
        before = await ledger(first)
    finally:
        await first.abort()
        sandbox.delay("getUpdates", 0)
    assert sandbox.unconfirmed_updates() == 40  # the server still owes them

    second = SopBot(settings, config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        await sandbox.wait_for(lambda: sandbox.unconfirmed_updates() == 0, timeout=15)
        await settle(second, sandbox)
        assert bulk(second) == 40  # taken again, as done
        assert await ledger(second) == before
        assert before.handled == len(MEMBERS) + 40
    finally:
        await second.stop()


@pytest.fixture
async def poison(app: SopBot) -> AsyncIterator[None]:
    """The database refuses to rename a member to POISON (a trigger: a real failure of one
    update's write, on each backend), dropped afterwards."""
    statements = {
        "sqlite": [
            "CREATE TRIGGER poison BEFORE UPDATE ON members WHEN NEW.first_name = 'POISON' "
            "BEGIN SELECT RAISE(ABORT, 'poison'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.first_name = 'POISON' "
            "THEN RAISE EXCEPTION 'poison' USING ERRCODE = 'check_violation'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE UPDATE ON members FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    }[app.db.dialect]
    async with app.db.transaction() as session:
        for sql in statements:
            await session.execute(text(sql))
    yield
    async with app.db.transaction() as session:
        if app.db.dialect == "postgresql":
            await session.execute(text("DROP TRIGGER poison ON members"))
            await session.execute(text("DROP FUNCTION poison()"))
        else:
            await session.execute(text("DROP TRIGGER poison"))


async def test_a_failing_update_in_a_batch_fails_alone_and_the_others_commit(
    app: SopBot, sandbox: TelegramSandbox, poison: None, caplog: pytest.LogCaptureFixture
) -> None:
    await warm_up(app, sandbox)
    victim, others = MEMBERS[3], [m for m in MEMBERS if m != MEMBERS[3]]
    first = burst(sandbox, 15, others)
    sandbox.add_user(victim, POISON)
    bad = sandbox.user_sends(victim, "hi again", chat_id=COMMUNITY)["update_id"]
    sandbox.add_user(victim, f"M{victim}")
    rest = burst(sandbox, 15, others)
    await settle(app, sandbox)
    assert f"update {bad} failed" in caplog.text
    async with app.sessions() as session:
        handled = set((await session.execute(select(ProcessedUpdate.update_id))).scalars())
    assert set(first + rest) <= handled and bad not in handled
    after = await ledger(app)
    assert sum(after.activity.values()) == len(MEMBERS) + 30  # all but the failed one
    assert after.rollups[0][1] == len(MEMBERS) + 30
    assert sandbox.unconfirmed_updates() == 0  # confirmed: it cannot come back forever
    assert bulk(app) == 0  # the bulk transaction failed: each took the single path


@pytest.fixture
def config() -> CommunityConfig:
    """With a hook: its keyword takes the single path between chatter."""
    hooks = "hooks:\n  - id: guide\n    keywords: ['666']\n    template: guide\n"
    return parse_config(CONFIG_YAML + hooks, "tests/e2e/test_ingest.py")


async def test_a_chats_updates_keep_their_order_around_the_chatter(
    app: SopBot, sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """In one batch: a question, chatter, the operator's answer, more chatter, a hook keyword:
    the question is answered (it was open before the answer came), the hook answered once, the
    chatter counted in bulk."""
    caplog.set_level(logging.INFO)
    await warm_up(app, sandbox)
    sandbox.set_admin(COMMUNITY, OPERATOR, "member")
    asker, hooked = MEMBERS[0], MEMBERS[1]
    question = sandbox.user_sends(asker, "请问优惠券怎么用？", chat_id=COMMUNITY)
    chatter = [
        sandbox.user_sends(uid, "大家好", chat_id=COMMUNITY)["update_id"] for uid in MEMBERS[2:10]
    ]
    sandbox.user_sends(
        OPERATOR,
        "结算页输入券码即可",
        chat_id=COMMUNITY,
        reply_to_message_id=question["message"]["message_id"],
    )
    chatter += [
        sandbox.user_sends(uid, "谢谢", chat_id=COMMUNITY)["update_id"] for uid in MEMBERS[10:]
    ]
    sandbox.user_sends(hooked, "666", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert bulk(app) == len(chatter)
    status = await scalar(app, select(Question.status))
    assert status == "answered"
    replies = [m for m in sandbox.sent_messages(COMMUNITY) if m.reply_to_message_id]
    assert len(replies) == 1
    after = await ledger(app)
    assert after.activity[hooked] == 2 and after.activity[asker] == 2
    assert after.handled == len(MEMBERS) + len(chatter) + 3


def group_message(update_id: int, uid: int, text: str, at: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": at,
            "text": text,
            "chat": {"id": COMMUNITY, "type": "supergroup", "title": "Demo community"},
            "from": {"id": uid, "is_bot": False, "first_name": f"M{uid}", "language_code": "zh"},
        },
    }


async def test_webhook_posts_arriving_together_share_one_transaction(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    """Telegram keeps several webhook requests in flight: those that arrive together are
    recorded together, each answered 200 once committed; a repeat is a no-op."""
    settings, url = webhook_settings(sandbox.url, database_url)
    app = SopBot(settings, config, clock=clock)
    await app.start()
    at = int(clock.now().timestamp())
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        await sandbox.wait_for(lambda: any(c.method == "setWebhook" for c in sandbox.calls))
        async with aiohttp.ClientSession() as http:

            async def push(updates: list[dict[str, object]]) -> list[int]:
                async def one(update: dict[str, object]) -> int:
                    async with http.post(url, json=update, headers=headers) as response:
                        return response.status

                return list(await asyncio.gather(*(one(u) for u in updates)))

            warm = [group_message(500 + i, uid, "hello", at) for i, uid in enumerate(MEMBERS)]
            assert await push(warm) == [200] * len(MEMBERS)
            assert bulk(app) == 0  # not known yet: one at a time
            chatter = [
                group_message(600 + i, MEMBERS[i % len(MEMBERS)], CHATTER[i % 4], at)
                for i in range(40)
            ]
            assert await push(chatter) == [200] * 40
            assert bulk(app) == 40
            # together: fewer transactions than requests (one each would be 40)
            assert bulk_batches(app) < 40
            assert await push(chatter[:10]) == [200] * 10  # Telegram posts some again
        after = await ledger(app)
        assert sum(after.activity.values()) == len(MEMBERS) + 40
        assert after.handled == len(MEMBERS) + 40
    finally:
        await app.stop()
