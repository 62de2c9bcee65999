"""Segmented broadcasts: the operator's draft, its recipients and how each one went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    """waiting (not in the outbox yet) → queued → sent | blocked | failed; waiting/queued →
    dropped when the broadcast is cancelled."""

    WAITING = "waiting"
    QUEUED = "queued"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    DROPPED = "dropped"


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.DRAFT)
    created_by: Mapped[int]
    #: where the operator asked: previews, progress and the tally go there
    chat_id: Mapped[int]
    chat_kind: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16))
    #: variant A: a message to copy (chat, message id) or a template name
    source_chat_id: Mapped[int | None]
    source_message_id: Mapped[int | None]
    template: Mapped[str | None] = mapped_column(String(64))
    #: A/B: variant B (set by ``/broadcast variant b``); ``ab`` once asked for
    ab: Mapped[bool] = mapped_column(default=False)
    b_source_message_id: Mapped[int | None]
    b_template: Mapped[str | None] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    audience: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    #: the last time a recipient was queued or settled (a "stuck" broadcast has none for long)
    progressed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    started_by: Mapped[int | None]
    #: the progress message (the preview card, edited in place from Send on) and its edits
    progress_message_id: Mapped[int | None]
    progress_edits: Mapped[int] = mapped_column(Integer, default=0)
    progress_state: Mapped[str | None] = mapped_column(String(80))
    progress_edited_at: Mapped[datetime | None]
    #: the card with the buttons where Telegram put it (the last one sent with buttons): a
    #: press counts only on this message
    card_chat_id: Mapped[int | None]
    card_message_id: Mapped[int | None]
    #: A/B report: due after the window, sent once
    report_due_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    #: the copy review of its text (issue 15): ``warn`` (Send asks twice), ``block`` (no Send)
    review: Mapped[str | None] = mapped_column(String(8))
    review_confirmed: Mapped[bool] = mapped_column(default=False)
    #: a promotion (``/broadcast SEGMENT ad``): each copy starts with the ad label
    promotional: Mapped[bool] = mapped_column(default=False)


class BroadcastRecipient(Base):
    __tablename__ = "broadcast_recipients"
    __table_args__ = (Index("ix_broadcast_recipients_state", "broadcast_id", "status"),)

    broadcast_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("broadcasts.id"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    variant: Mapped[str] = mapped_column(String(1), default="a")
    status: Mapped[str] = mapped_column(String(16), default=RecipientStatus.WAITING)
    settled_at: Mapped[datetime | None]
    #: A/B: when they first wrote to the bot after their copy arrived
    replied_at: Mapped[datetime | None]
