"""Tag history and member lifecycle: what changed when, not only what holds now."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK

ADDED = "added"
REMOVED = "removed"


class TagEvent(Base):
    """A tag put on or taken off a member (lifecycle moves too, as ``lifecycle:<stage>``)."""

    __tablename__ = "tag_events"
    __table_args__ = (Index("ix_tag_events_at_tag", "at", "tag"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    tag: Mapped[str] = mapped_column(String(64))
    #: added or removed
    action: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]
    #: who or what: hook, interest, rule, lifecycle, message, reactivated, op:<operator id>…
    by: Mapped[str] = mapped_column(String(32))


class MemberStage(Base):
    """A member's lifecycle stage (active, new, silent, churned) since when, and when the
    last win-back DM went to them."""

    __tablename__ = "member_stages"
    __table_args__ = (Index("ix_member_stages_stage", "stage", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("members.user_id"), primary_key=True, autoincrement=False
    )
    stage: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    winback_at: Mapped[datetime | None]


class DailyPass(Base):
    """A daily job done for a local day: claimed in its own transaction, so two instances
    never both do it."""

    __tablename__ = "daily_passes"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    at: Mapped[datetime]
    #: members whose stage changed, win-back DMs queued (for the log and the team)
    moved: Mapped[int] = mapped_column(default=0)
    winback: Mapped[int] = mapped_column(default=0)
