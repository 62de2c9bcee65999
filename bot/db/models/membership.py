"""A member's stint in a community (one row per join) and their daily activity there."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_chat_open", "chat_id", "left_at"),
        Index("ix_memberships_chat_joined", "chat_id", "joined_at"),
        Index("ix_memberships_greeting", "chat_id", "greeting_outbox_id", "welcomed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("members.user_id"), index=True)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    #: the invite link's name (or URL) the member joined by, when Telegram told us
    invite_link: Mapped[str | None] = mapped_column(String(128))
    via_join_request: Mapped[bool] = mapped_column(default=False)
    #: the group greeting that mentions this member (set when the batch is planned)
    greeting_outbox_id: Mapped[int | None] = mapped_column(BigIntPK)
    welcomed_at: Mapped[datetime | None]


class ActivityDaily(Base):
    """Messages a member posted in a community on one local day. Text is never stored."""

    __tablename__ = "activity_daily"

    chat_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
