"""Cleanup (issue 13): an operator's removal of a community's silent members (or a segment's),
previewed first, then carried out at a safe pace through the outbox. The members to remove are
the preview's own (kept here), so a confirm removes exactly what the operator saw."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class CleanupStatus(StrEnum):
    """``cleanups.status``: draft (previewed) → running (confirmed) → done; or dropped (cancelled,
    out of date, or replaced by the operator's next preview)."""

    DRAFT = "draft"
    RUNNING = "running"
    DONE = "done"
    DROPPED = "dropped"


class TargetStatus(StrEnum):
    """``cleanup_targets.status``: pending → banned → removed (unbanned: they may rejoin), or
    failed (with the reason Telegram gave)."""

    PENDING = "pending"
    BANNED = "banned"
    REMOVED = "removed"
    FAILED = "failed"


class Cleanup(Base):
    __tablename__ = "cleanups"
    __table_args__ = (Index("ix_cleanups_operator", "operator_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    operator_id: Mapped[int]
    #: "silent" or "segment"
    kind: Mapped[str] = mapped_column(String(8))
    #: the duration ("90d") or the segment's name
    arg: Mapped[str] = mapped_column(String(64))
    #: a last DM to each before the removal
    dm: Mapped[bool] = mapped_column(default=False)
    #: a secret in the confirm button's data: a forged press does not know it
    token: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(8))
    total: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: why removals failed: Telegram's description → how many
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: where the operator asked (the preview and the final word go there)
    answer_chat_id: Mapped[int]
    answer_chat_kind: Mapped[str] = mapped_column(String(16))
    #: the operator's locale (the final word is in it)
    locale: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CleanupTarget(Base):
    __tablename__ = "cleanup_targets"
    __table_args__ = (Index("ix_cleanup_targets_status", "cleanup_id", "status"),)

    cleanup_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(8), default=TargetStatus.PENDING)
    error: Mapped[str | None] = mapped_column(String(120))
