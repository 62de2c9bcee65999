"""Every outgoing Bot API call is a row here before it is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
#: made, but Telegram's answer could not be read: settled as sent, with no message id
SENT_UNKNOWN = "sent_unknown"
FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: unique per effect: the same effect queued twice is one row
    key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(index=True)
    #: "private", "group" or "channel": which Telegram limit applies
    chat_kind: Mapped[str] = mapped_column(String(16))
    #: what the message is for (welcome_group, welcome_dm, reply, team, ...); KPIs and effects
    purpose: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(40), default="sendMessage")
    #: the send lane: 0 service (the desk's relays and answers) goes ahead of 1 (everything
    #: else: broadcasts, win-back...) when both are due
    lane: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None]
