"""What the team console reads besides the daily rollups: member counts kept as they change,
joins per source and day, and the reports and alerts already sent (never twice)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK
from bot.db.models.membership import Membership
from bot.db.models.sop import Question

#: the greeting SLA of a range of days is counted from the index alone (no table rows read)
Index(
    "ix_memberships_kpi_welcome",
    Membership.chat_id,
    Membership.joined_at,
    Membership.welcomed_at,
    Membership.left_at,
)
#: first responses of a range of days, likewise
Index(
    "ix_questions_kpi_response",
    Question.chat_id,
    Question.asked_at,
    Question.deadline,
    Question.response_seconds,
)


class MemberCount(Base):
    """Open stints per community right now (so ``/kpi`` never counts the member table)."""

    __tablename__ = "member_counts"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    members: Mapped[int] = mapped_column(Integer, default=0)


class MemberDelta(Base):
    """How the open-stint count changed on a local day (joins that opened a stint minus leaves
    that closed one); the count at the end of day D is today's count minus the later deltas."""

    __tablename__ = "member_deltas"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    delta: Mapped[int] = mapped_column(Integer, default=0)


class SourceJoins(Base):
    """Joins per community, local day and source (deep-link payload, invite link, …)."""

    __tablename__ = "source_joins"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    joins: Mapped[int] = mapped_column(Integer, default=0)


class KpiDay(Base):
    """The greeting SLA and first responses of a day that is over (and a day past, so late
    answers are in): worked out once from the ledger, then read from here."""

    __tablename__ = "kpi_days"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    welcome_due: Mapped[int] = mapped_column(Integer)
    welcome_in_time: Mapped[int] = mapped_column(Integer)
    questions_due: Mapped[int] = mapped_column(Integer)
    #: seconds to the first human answer of each answered question (medians pool them)
    response_times: Mapped[list[Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]


class ReportRun(Base):
    """One daily or weekly report for one period: claimed once, across restarts and
    instances (the unique constraint decides who sends it)."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: daily or weekly
    kind: Mapped[str] = mapped_column(String(16))
    #: the first local day the report covers
    period: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime]


class AlertState(Base):
    """An alert condition by key (kind + subject): raised once while it lasts; cleared when it
    ends; raised again only after it cleared and ``alerts.repeat_after`` has passed."""

    __tablename__ = "alert_states"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
