"""Report runs and alert states on both databases: once per period across instances, one
alert per condition, raised again only after it cleared and ``repeat_after`` passed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig
from bot.db.models import AlertState, ChatKind, OutboxMessage
from bot.db.models.broadcast import Broadcast
from bot.db.repositories import OutboxRepository
from bot.db.repositories.sop import SopRepository
from bot.rendering import Renderer
from bot.services.console.alerts import AlertService
from bot.services.console.kpi import KpiService
from bot.services.console.reports import ReportService
from bot.services.messenger import Messenger
from sop.clock import ManualClock


async def _count(sessions: async_sessionmaker[AsyncSession], purpose: str) -> int:
    async with sessions() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.purpose == purpose)
                )
            ).scalar_one()
        )


async def _deliveries(
    sessions: async_sessionmaker[AsyncSession],
    at: datetime,
    *,
    sent: int,
    failed: int,
    blocked: int,
    tag: str,
) -> None:
    async with sessions() as session, session.begin():
        outbox = OutboxRepository(session)
        for n in range(sent + failed + blocked):
            row = await outbox.enqueue(
                key=f"{tag}:{n}",
                chat_id=5000 + n,
                chat_kind=ChatKind.PRIVATE,
                purpose="welcome_dm",
                payload={"text": "x"},
                now=at,
            )
            assert row is not None
            if n < sent:
                await outbox.mark_sent(row, at, 1)
            elif n < sent + failed:
                await outbox.mark_failed(row, "Bad Request: message is too long")
            else:
                await outbox.mark_failed(row, "member unreachable: Forbidden: bot was blocked")


async def _check(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        await AlertService(session, config, Messenger(session, Renderer(), config)).check(now)


async def test_delivery_failures_are_one_alert_until_cleared_and_repeat_after(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    # 10 failed of 30 settled (33%, over 10%); the 5 blocked members are not failures
    await _deliveries(sessions, now - timedelta(minutes=10), sent=20, failed=10, blocked=5, tag="a")
    for minutes in (0, 5, 10, 15):
        await _check(sessions, config, now + timedelta(minutes=minutes))
    assert await _count(sessions, "alert") == 1
    # an hour on, the window holds nothing: the condition clears (no message)
    later = now + timedelta(hours=2)
    await _check(sessions, config, later)
    # it comes back within repeat_after (6h since raised): still the one alert
    await _deliveries(sessions, later, sent=20, failed=10, blocked=0, tag="b")
    await _check(sessions, config, later + timedelta(minutes=1))
    assert await _count(sessions, "alert") == 1
    # cleared again, then back after repeat_after: a second alert
    await _check(sessions, config, later + timedelta(hours=2))
    again = now + timedelta(hours=7)
    await _deliveries(sessions, again, sent=20, failed=10, blocked=0, tag="c")
    await _check(sessions, config, again + timedelta(minutes=1))
    assert await _count(sessions, "alert") == 2


async def test_blocked_members_alone_raise_no_alert(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    await _deliveries(sessions, now - timedelta(minutes=5), sent=20, failed=0, blocked=20, tag="d")
    await _check(sessions, config, now)
    assert await _count(sessions, "alert") == 0


async def test_sends_with_an_unreadable_answer_count_as_delivered(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    # Telegram took 20 sends whose answers could not be read: 4 failed of 40 (10%) is no alert
    # (left out, 4 failed of 20 settled would be 20%: an alert)
    await _deliveries(sessions, now - timedelta(minutes=5), sent=16, failed=4, blocked=0, tag="u")
    async with sessions() as session, session.begin():
        outbox = OutboxRepository(session)
        for n in range(20):
            row = await outbox.enqueue(
                key=f"u2:{n}",
                chat_id=6000 + n,
                chat_kind=ChatKind.PRIVATE,
                purpose="welcome_dm",
                payload={"text": "x"},
                now=now - timedelta(minutes=5),
            )
            assert row is not None
            await outbox.mark_sent_unknown(row, now - timedelta(minutes=5), "answer unreadable")
    await _check(sessions, config, now)
    assert await _count(sessions, "alert") == 0


async def test_two_instances_send_the_daily_report_once(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    installed = clock.now() - timedelta(days=3)
    async with sessions() as session, session.begin():
        await SopRepository(session).installed_at(installed)
    at_nine = clock.now()  # 09:00 in Shanghai: the daily report's time

    async def instance() -> None:
        async with sessions() as session, session.begin():
            messenger = Messenger(session, Renderer(), config)
            await ReportService(session, config, messenger, KpiService(session, config)).run_due(
                at_nine
            )

    await asyncio.gather(*(instance() for _ in range(4)), return_exceptions=False)
    await instance()  # and a restart later that morning
    assert await _count(sessions, "report") == 2  # the figures and the SOP/ops message


async def test_a_stuck_broadcast_is_one_alert_and_clears_when_it_moves(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as session, session.begin():
        broadcast = Broadcast(
            segment="all",
            status="sending",
            created_by=1001,
            chat_id=1001,
            chat_kind=ChatKind.PRIVATE,
            locale="en",
            audience=100,
            created_at=now - timedelta(hours=1),
            started_at=now - timedelta(hours=1),
            progressed_at=now - timedelta(minutes=20),
        )
        session.add(broadcast)
    for minutes in (0, 5, 10):
        await _check(sessions, config, now + timedelta(minutes=minutes))
    assert await _count(sessions, "alert") == 1
    async with sessions() as session:
        text = (
            await session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.purpose == "alert")
            )
        ).scalar_one()
    assert f"#{broadcast.id}" in text["text"] and "卡住" in text["text"]  # zh: the default
    async with sessions() as session, session.begin():  # it moves again: cleared
        row = await session.get(Broadcast, broadcast.id)
        assert row is not None
        row.progressed_at = now + timedelta(minutes=14)
    await _check(sessions, config, now + timedelta(minutes=15))
    async with sessions() as session:
        state = await session.get(AlertState, f"stuck:{broadcast.id}")
    assert state is not None and state.cleared_at is not None
