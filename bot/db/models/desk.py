"""The member service desk: conversations (tickets), where their relays are in the team chat,
a forum topic per member. Ids, times, state and ratings only: never the text of a message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
#: why a ticket closed
RESOLVED, AUTOCLOSED, UNDELIVERABLE = "resolved", "autoclosed", "undeliverable"


class DeskTicket(Base):
    """One member's conversation: open (waiting for the team) → answered → closed; a new
    message reopens it (a new clock, the first response kept)."""

    __tablename__ = "desk_tickets"
    __table_args__ = (
        Index("ix_desk_tickets_user_status", "user_id", "status"),
        Index("ix_desk_tickets_status_deadline", "status", "deadline"),
        Index("ix_desk_tickets_opened_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    #: since when the member waits for the team (the clock's start; reset by a reopen)
    waiting_since: Mapped[datetime | None]
    #: the first-response deadline of the current wait (office time counted)
    deadline: Mapped[datetime | None]
    last_member_at: Mapped[datetime]
    #: the member's last message (relayed when they ask for a person after an FAQ answer)
    last_member_message_id: Mapped[int | None] = mapped_column(BigInteger)
    first_response_at: Mapped[datetime | None]
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    #: whether the first response was in time (the SLA in office time)
    within_sla: Mapped[bool | None]
    answered_at: Mapped[datetime | None]
    #: answered from the FAQ without a person (and not handed to one since)
    automatic: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(16))
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    #: the team.roles role the ticket is routed to (service.vip)
    role: Mapped[str | None] = mapped_column(String(64))
    holding_sent: Mapped[bool] = mapped_column(default=False)
    reminded: Mapped[bool] = mapped_column(default=False)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    #: messages not copied to the team chat (a flood beyond the relay bound)
    unrelayed: Mapped[int] = mapped_column(Integer, default=0)
    relay_window_at: Mapped[datetime | None]
    relay_window_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    #: the team chat's budget ran short: *waiting* to be named in a digest, then *listed*
    digest_state: Mapped[str | None] = mapped_column(String(8))
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]


class DeskRelay(Base):
    """A bot message in the team chat that stands for a ticket: replying to it answers the
    member (the card, each copied message, a digest line's message)."""

    __tablename__ = "desk_relays"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    #: card, copy, note
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class DeskTopic(Base):
    """The forum topic of a member in the team chat (created once, reused)."""

    __tablename__ = "desk_topics"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id"),)

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    #: creating | ready | refused
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class DeskTeamChat(Base):
    """What Telegram said of the team chat: a forum or not, may the bot make topics."""

    __tablename__ = "desk_team_chat"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    is_forum: Mapped[bool] = mapped_column(default=False)
    can_manage_topics: Mapped[bool] = mapped_column(default=False)
    checked_at: Mapped[datetime]
    #: the team was told the bot lacks can_manage_topics (once per such finding)
    told_at: Mapped[datetime | None]
