"""The service desk's tables (tickets, relays, topics, the team chat's state). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.desk import (
    ANSWERED,
    CLOSED,
    OPEN,
    DeskRelay,
    DeskTeamChat,
    DeskTicket,
    DeskTopic,
)
from bot.db.upsert import insert_for


@dataclass(frozen=True)
class DeskFigures:
    """The desk's figures for tickets opened in a period."""

    conversations: int
    automatic: int
    response_seconds: list[int]
    within_sla: int
    answered: int
    resolution_seconds: list[int]
    ratings: list[int]


class DeskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- tickets ----------------------------------------------------------------------------
    async def latest(self, user_id: int) -> DeskTicket | None:
        """The member's most recent ticket, locked for this transaction."""
        result = await self._session.execute(
            select(DeskTicket)
            .where(DeskTicket.user_id == user_id)
            .order_by(DeskTicket.id.desc())
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalars().first()

    async def get(self, ticket_id: int) -> DeskTicket | None:
        result = await self._session.execute(
            select(DeskTicket)
            .where(DeskTicket.id == ticket_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalars().first()

    async def add(self, ticket: DeskTicket) -> DeskTicket:
        self._session.add(ticket)
        await self._session.flush()
        return ticket

    async def overdue(self, now: datetime, limit: int = 200) -> Sequence[DeskTicket]:
        """Open tickets past their deadline that have not had both the holding reply and the
        team's reminder."""
        result = await self._session.execute(
            select(DeskTicket)
            .where(
                DeskTicket.status == OPEN,
                DeskTicket.deadline <= now,
                or_(DeskTicket.holding_sent.is_(False), DeskTicket.reminded.is_(False)),
            )
            .order_by(DeskTicket.deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.scalars().all()

    async def next_deadline(self) -> datetime | None:
        return (
            await self._session.execute(
                select(func.min(DeskTicket.deadline)).where(
                    DeskTicket.status == OPEN,
                    or_(DeskTicket.holding_sent.is_(False), DeskTicket.reminded.is_(False)),
                )
            )
        ).scalar_one_or_none()

    async def silent_answered(
        self, now: datetime, autoclose: timedelta, limit: int = 200
    ) -> Sequence[DeskTicket]:
        """Answered tickets whose member has said nothing for ``autoclose`` since the answer."""
        result = await self._session.execute(
            select(DeskTicket)
            .where(DeskTicket.status == ANSWERED, DeskTicket.answered_at <= now - autoclose)
            .order_by(DeskTicket.answered_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.scalars().all()

    async def next_autoclose(self, autoclose: timedelta) -> datetime | None:
        first = (
            await self._session.execute(
                select(func.min(DeskTicket.answered_at)).where(DeskTicket.status == ANSWERED)
            )
        ).scalar_one_or_none()
        return None if first is None else first + autoclose

    async def digest_waiting(self, limit: int) -> Sequence[DeskTicket]:
        """Conversations the team chat's budget held back, still to be named in a digest."""
        result = await self._session.execute(
            select(DeskTicket)
            .where(DeskTicket.digest_state == "waiting")
            .order_by(DeskTicket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.scalars().all()

    async def last_queued(self, team_chat: int, purpose: str) -> datetime | None:
        """When the desk last queued a message of ``purpose`` for the team chat."""
        from bot.db.models import OutboxMessage

        return (
            await self._session.execute(
                select(func.max(OutboxMessage.created_at)).where(
                    OutboxMessage.chat_id == team_chat, OutboxMessage.purpose == purpose
                )
            )
        ).scalar_one_or_none()

    async def not_closed(self, limit: int) -> Sequence[DeskTicket]:
        result = await self._session.execute(
            select(DeskTicket)
            .where(DeskTicket.status != CLOSED)
            .order_by(DeskTicket.status.desc(), DeskTicket.waiting_since)
            .limit(limit)
        )
        return result.scalars().all()

    async def count_not_closed(self) -> int:
        return int(
            (
                await self._session.execute(
                    select(func.count()).select_from(DeskTicket).where(DeskTicket.status != CLOSED)
                )
            ).scalar_one()
        )

    async def figures(self, start: datetime, end: datetime) -> DeskFigures:
        """Tickets opened in [start, end): counts and the raw durations (medians and p90 are
        exact, worked out by the caller)."""
        rows = (
            await self._session.execute(
                select(
                    DeskTicket.automatic,
                    DeskTicket.first_response_seconds,
                    DeskTicket.within_sla,
                    DeskTicket.opened_at,
                    DeskTicket.closed_at,
                    DeskTicket.close_reason,
                    DeskTicket.rating,
                ).where(and_(DeskTicket.opened_at >= start, DeskTicket.opened_at < end))
            )
        ).all()
        response = [
            int(r.first_response_seconds) for r in rows if r.first_response_seconds is not None
        ]
        resolution = [
            int((r.closed_at - r.opened_at).total_seconds())
            for r in rows
            if r.closed_at is not None and r.close_reason != "undeliverable"
        ]
        return DeskFigures(
            conversations=len(rows),
            automatic=sum(1 for r in rows if r.automatic),
            response_seconds=response,
            within_sla=sum(1 for r in rows if r.within_sla),
            answered=len(response),
            resolution_seconds=resolution,
            ratings=[int(r.rating) for r in rows if r.rating is not None],
        )

    # -- relays -----------------------------------------------------------------------------
    async def add_relay(
        self, chat_id: int, message_id: int, ticket_id: int, user_id: int, kind: str, now: datetime
    ) -> None:
        await self._session.execute(
            insert_for(self._session, DeskRelay)
            .values(
                chat_id=chat_id,
                message_id=message_id,
                ticket_id=ticket_id,
                user_id=user_id,
                kind=kind,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "message_id"])
        )

    async def relay(self, chat_id: int, message_id: int) -> DeskRelay | None:
        result = await self._session.execute(
            select(DeskRelay).where(
                DeskRelay.chat_id == chat_id, DeskRelay.message_id == message_id
            )
        )
        return result.scalars().first()

    # -- topics -----------------------------------------------------------------------------
    async def topic(self, user_id: int) -> DeskTopic | None:
        return await self._session.get(DeskTopic, user_id, populate_existing=True)

    async def claim_topic(self, user_id: int, chat_id: int, now: datetime) -> bool:
        """``True`` when this call is the one to create the member's topic."""
        row = (
            await self._session.execute(
                insert_for(self._session, DeskTopic)
                .values(user_id=user_id, chat_id=chat_id, state="creating", created_at=now)
                .on_conflict_do_nothing(index_elements=["user_id"])
                .returning(DeskTopic.user_id)
            )
        ).first()
        return row is not None

    async def set_topic(self, user_id: int, thread_id: int | None, state: str) -> None:
        await self._session.execute(
            update(DeskTopic)
            .where(DeskTopic.user_id == user_id)
            .values(thread_id=thread_id, state=state)
        )

    async def topic_user(self, chat_id: int, thread_id: int) -> int | None:
        return (
            await self._session.execute(
                select(DeskTopic.user_id).where(
                    DeskTopic.chat_id == chat_id, DeskTopic.thread_id == thread_id
                )
            )
        ).scalar_one_or_none()

    # -- the team chat ----------------------------------------------------------------------
    async def lock_team_chat(self, chat_id: int, now: datetime) -> None:
        """Takes the team chat's row for this transaction (made if missing): relays to it are
        given their slots one transaction at a time, on PostgreSQL too."""
        await self._session.execute(
            insert_for(self._session, DeskTeamChat)
            .values(chat_id=chat_id, is_forum=False, can_manage_topics=False, checked_at=now)
            .on_conflict_do_nothing(index_elements=["chat_id"])
        )
        await self._session.execute(
            select(DeskTeamChat.chat_id).where(DeskTeamChat.chat_id == chat_id).with_for_update()
        )

    async def team_chat(self, chat_id: int) -> DeskTeamChat | None:
        return await self._session.get(DeskTeamChat, chat_id, populate_existing=True)

    async def set_team_chat(
        self, chat_id: int, *, is_forum: bool, can_manage_topics: bool, now: datetime
    ) -> DeskTeamChat:
        """What Telegram says of the team chat, as one upsert: the desk's loop and the delivery
        hook (a refused createForumTopic) may record it in two transactions at once."""
        # the row first (a no-op when it exists), then locked and updated: two writers
        # at once on PostgreSQL no longer both INSERT (pk_desk_team_chat)
        await self._session.execute(
            insert_for(self._session, DeskTeamChat)
            .values(
                chat_id=chat_id,
                is_forum=is_forum,
                can_manage_topics=can_manage_topics,
                checked_at=now,
            )
            .on_conflict_do_nothing(index_elements=[DeskTeamChat.chat_id])
        )
        row = await self._session.get(
            DeskTeamChat, chat_id, with_for_update=True, populate_existing=True
        )
        assert row is not None
        if (row.is_forum, row.can_manage_topics) != (is_forum, can_manage_topics):
            row.told_at = None  # a new finding: the team hears of it again
        row.is_forum, row.can_manage_topics, row.checked_at = is_forum, can_manage_topics, now
        await self._session.flush()
        return row
