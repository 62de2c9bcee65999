"""Delivery end to end: Telegram's 429 obeyed exactly, 403 marks the member, crashes lose
nothing and send nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import ChatKind, Member, OutboxMessage
from bot.db.repositories import OutboxRepository
from bot.delivery.limiter import Limits
from bot.services.welcome.service import WelcomeDeliveryHook
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, settings_for
from tests.e2e.helpers import settle


async def test_429_retry_after_is_waited_exactly(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(6001, "Eve")
    sandbox.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    sandbox.user_sends(6001, "/start")
    await sandbox.wait_for(lambda: sandbox.count_errors(429) == 1)
    await settle(app, sandbox)

    clock.advance(seconds=6.9)
    await settle(app, sandbox)
    assert sandbox.sent_messages(6001) == []  # not a moment early
    clock.advance(seconds=0.1)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(6001)) == 1)
    assert sandbox.early_retries == 0
    assert sandbox.count_errors(429) == 1


async def test_server_side_flood_limits_are_obeyed_without_early_retries(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    # a bot that believes the group may take 100 a minute meets a server that allows 20
    reckless = Limits(group_per_window=100)
    app = SopBot(
        settings_for(sandbox.url, database_url),
        config,
        clock=clock,
        limits=reckless,
        polling_timeout=1,
    )
    await app.start()
    try:
        for uid in range(7001, 7041):  # 40 joins, a greeting each
            sandbox.add_user(uid, f"F{uid}")
        async with app.db.transaction() as session:
            from bot.db.repositories import OutboxRepository

            for n in range(40):
                await OutboxRepository(session).enqueue(
                    key=f"flood:{n}",
                    chat_id=COMMUNITY,
                    chat_kind=ChatKind.GROUP,
                    purpose="test",
                    payload={"text": f"message {n}"},
                    now=clock.now(),
                )
        app.delivery.wake()
        for _ in range(200):
            await settle(app, sandbox)
            if len(sandbox.sent_messages(COMMUNITY)) == 40:
                break
            clock.advance(seconds=1)
        texts = [m.text for m in sandbox.sent_messages(COMMUNITY)]
        assert texts == [f"message {n}" for n in range(40)]  # all, once, in order
        assert sandbox.count_errors(429) >= 1
        assert sandbox.early_retries == 0
    finally:
        await app.stop()


async def test_403_marks_the_member_unreachable(app: SopBot, sandbox: TelegramSandbox) -> None:
    sandbox.add_user(6101, "Fay")
    sandbox.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    sandbox.user_sends(6101, "/start src_ads")
    await sandbox.wait_for(lambda: sandbox.count_errors(403) == 1)
    await settle(app, sandbox)
    async with app.sessions() as session:
        member = await session.get(Member, 6101)
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert member is not None and member.unreachable_at is not None and not member.reachable
    assert [(r.status, (r.last_error or "")[:3]) for r in rows] == [("failed", "403")]


async def test_blocking_the_bot_is_recorded(app: SopBot, sandbox: TelegramSandbox) -> None:
    sandbox.add_user(6201, "Gus")
    sandbox.user_sends(6201, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(6201)) == 1)
    sandbox.block_bot(6201)
    await settle(app, sandbox)
    async with app.sessions() as session:
        member = await session.get(Member, 6201)
    assert member is not None and member.unreachable_at is not None


async def test_crash_between_queued_and_sent_delivers_each_message_once(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings = settings_for(sandbox.url, database_url)
    first = SopBot(settings, config, clock=clock, polling_timeout=1)
    await first.start()
    users = list(range(8001, 8061))
    for uid in users:
        sandbox.add_user(uid, f"G{uid}")
    sandbox.delay("sendMessage", 30)  # every send hangs: rows are claimed, in flight
    for uid in users:
        sandbox.user_sends(uid, f"/start src_{uid}")
    await sandbox.wait_for(lambda: sandbox.pending_updates() == 0)
    await sandbox.wait_for(lambda: first.delivery.held > 0)
    await first.abort()  # killed: nothing handed back
    sandbox.delay("sendMessage", 0)

    second = SopBot(settings, config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        for _ in range(20):  # leases of the dead sender run out
            clock.advance(seconds=10)
            await settle(second, sandbox)
        sent = Counter(m.chat_id for m in sandbox.sent_messages())
        handled = await _members(second)
        assert handled == set(users)  # every update was handled (before or after)
        assert sent == Counter({uid: 1 for uid in users})
    finally:
        await second.stop()


async def _members(app: SopBot) -> set[int]:
    async with app.sessions() as session:
        return set((await session.execute(select(Member.user_id))).scalars())


async def test_restart_sends_what_was_queued_while_down(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings = settings_for(sandbox.url, database_url)
    app = SopBot(settings, config, clock=clock, polling_timeout=1)
    await app.start()
    for uid in range(8101, 8111):
        sandbox.add_user(uid, f"H{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    await app.stop()  # down before the batch window closed

    clock.advance(timedelta(minutes=10))
    app = SopBot(settings, config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
        await settle(app, sandbox)
        assert len(sandbox.sent_messages(COMMUNITY)) == 1
    finally:
        await app.stop()


async def test_an_outage_is_waited_out_and_the_greeting_still_goes(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid in (6301, 6302, 6303):
        sandbox.add_user(uid, f"O{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    sandbox.fail_next("sendMessage", 502, "Bad Gateway", times=9)  # ~10 minutes of outage
    for _ in range(12 * 25):  # 25 virtual minutes, 5 s a step
        clock.advance(seconds=5)
        await settle(app, sandbox)
        if sandbox.sent_messages(COMMUNITY):
            break
    assert len(sandbox.sent_messages(COMMUNITY)) == 1
    greeting = sandbox.sent_messages(COMMUNITY)[0].text
    assert all(f"tg://user?id={uid}" in greeting for uid in (6301, 6302, 6303))


async def _queue_dms(
    app: SopBot, sandbox: TelegramSandbox, users: list[int], tag: str, *, wake: bool = True
) -> None:
    """One DM to each of ``users`` (who started the bot), queued at once."""
    async with app.db.transaction() as session:
        for uid in users:
            sandbox.add_user(uid, f"D{uid}")
            sandbox.world.dm_allowed.add(uid)
            await OutboxRepository(session).enqueue(
                key=f"{tag}:{uid}",
                chat_id=uid,
                chat_kind=ChatKind.PRIVATE,
                purpose="test",
                payload={"text": f"{tag} for {uid}"},
                now=app.clock.now(),
            )
    if wake:
        app.delivery.wake()


async def _statuses(app: SopBot) -> dict[int, str]:
    async with app.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(
                    OutboxMessage.purpose == "test"
                )
            )
        ).all()
    return {int(chat_id): str(status) for chat_id, status in rows}


async def test_a_settlement_that_fails_costs_only_its_own_row(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # answers that come back together are settled in one transaction; one that cannot be
    # settled (a bug in an effect) must not undo the others: they would be sent again
    users, broken = list(range(9001, 9021)), 9007
    real = WelcomeDeliveryHook.on_sent

    async def failing(self: WelcomeDeliveryHook, session, row, now):  # type: ignore[no-untyped-def]
        if row.chat_id == broken:
            raise RuntimeError("a bug in an effect")
        await real(self, session, row, now)

    monkeypatch.setattr(WelcomeDeliveryHook, "on_sent", failing)
    await _queue_dms(app, sandbox, users, "batch")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == len(users))
    await settle(app, sandbox)
    statuses = await _statuses(app)
    assert statuses.pop(broken) == "sending"  # left to its lease, as before batching
    assert statuses == {uid: "sent" for uid in users if uid != broken}

    monkeypatch.undo()
    clock.advance(seconds=91)  # the lease runs out: tried once more
    await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == len(users) + 1)
    await settle(app, sandbox)
    assert Counter(m.chat_id for m in sandbox.sent_messages()) == Counter(
        {uid: 2 if uid == broken else 1 for uid in users}
    )
    assert set((await _statuses(app)).values()) == {"sent"}


@contextlib.asynccontextmanager
async def _outbox_locked(database_url: str) -> AsyncIterator[None]:
    """Another connection holds the outbox: claims and settlements wait for it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_sends_go_on_while_a_claim_waits_for_the_database(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    users = list(range(9101, 9161))
    await _queue_dms(app, sandbox, users, "held")
    window = app.limiter.limits.global_per_second
    await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == window)
    await settle(app, sandbox)  # the rest is held, waiting for the window
    late = 9161
    await _queue_dms(app, sandbox, [late], "late", wake=False)
    async with _outbox_locked(database_url):
        app.delivery.wake()  # new work: its claim waits for the lock
        await asyncio.sleep(0.2)
        clock.advance(seconds=1)
        # the rows it holds go meanwhile (their settlement waits for the lock, too)
        await sandbox.wait_for(lambda: len(sandbox.sent_messages()) == 2 * window, timeout=10)
    for _ in range(3):
        clock.advance(seconds=1)
        await settle(app, sandbox)
    assert Counter(m.chat_id for m in sandbox.sent_messages()) == Counter([*users, late])
    assert set((await _statuses(app)).values()) == {"sent"}


async def test_a_server_fault_on_a_call_that_sends_nothing_holds_back_that_call_only(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """A 502 on a deletion backs that call off; the bot's other chats go on (only a 429 on
    such a call is the bot's requests running over, which holds every chat back)."""
    sandbox.add_user(6401, "Dee")
    sandbox.user_sends(6401, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(6401)) == 1)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    sandbox.fail_next("deleteMessage", 502, "Bad Gateway")
    async with app.db.transaction() as session:
        repo = OutboxRepository(session)
        await repo.enqueue(
            key="test:del",
            chat_id=COMMUNITY,
            chat_kind=ChatKind.API,
            purpose="moderation",
            method="deleteMessage",
            payload={"message_id": 1},
            now=clock.now(),
        )
    app.delivery.wake()
    await sandbox.wait_for(lambda: sandbox.count_errors(502) == 1)
    async with app.db.transaction() as session:
        await OutboxRepository(session).enqueue(
            key="test:dm",
            chat_id=6401,
            chat_kind=ChatKind.PRIVATE,
            purpose="moderation",
            payload={"text": "still here"},
            now=clock.now(),
        )
    app.delivery.wake()
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(6401)) == 2)  # no clock moved
