"""What the SOP engine did and what operators gave it to say."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class RunStatus(StrEnum):
    """``sop_runs.status``: how one fire of a schedule went."""

    SENT = "sent"
    #: a briefing without items
    NO_CONTENT = "no_content"
    #: the template failed (the team was told)
    RENDER_FAILED = "render_failed"
    #: past the grace window (the team was told)
    MISSED = "missed"


class QuestionStatus(StrEnum):
    """``questions.status``."""

    OPEN = "open"
    #: by an operator
    ANSWERED = "answered"
    #: the bot's FAQ answer
    AUTO = "auto"
    #: past its deadline with no FAQ answer: the team was told
    ESCALATED = "escalated"


class SopRun(Base):
    """One cron fire of one schedule, carried out, skipped or missed: never twice."""

    __tablename__ = "sop_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(64))
    fire_at: Mapped[datetime] = mapped_column(index=True)
    #: a :class:`RunStatus`
    status: Mapped[str] = mapped_column(String(16))
    carried_at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(String(300))


class SopPause(Base):
    """A schedule an operator paused (survives restarts and reloads)."""

    __tablename__ = "sop_pauses"

    schedule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused_at: Mapped[datetime]
    paused_by: Mapped[int]


class BriefItem(Base):
    """A line of a day's morning briefing (``/brief add``)."""

    __tablename__ = "brief_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    text: Mapped[str] = mapped_column(String(1000))
    added_by: Mapped[int]
    added_at: Mapped[datetime]


class QaSession(Base):
    """One evening Q&A: its topic, announcement and start."""

    __tablename__ = "qa_sessions"
    __table_args__ = (UniqueConstraint("schedule_id", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    topic: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None]


class QaRsvp(Base):
    __tablename__ = "qa_rsvps"

    session_id: Mapped[int] = mapped_column(ForeignKey("qa_sessions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]


class HookHit(Base):
    """A member triggered a keyword hook (once per member unless the hook says otherwise)."""

    __tablename__ = "hook_hits"

    hook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)


class MemberTag(Base):
    """A tag on a member (interest, source, manual…), with when it was put there."""

    __tablename__ = "member_tags"

    user_id: Mapped[int] = mapped_column(ForeignKey("members.user_id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(32))


class Question(Base):
    """A member's question in a community and how (and how fast) it was answered."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_questions_status_deadline", "status", "deadline"),
        Index("ix_questions_chat_asked", "chat_id", "asked_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    message_id: Mapped[int]
    user_id: Mapped[int]
    asked_at: Mapped[datetime]
    deadline: Mapped[datetime]
    #: a :class:`QuestionStatus`
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.OPEN)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None]
    #: seconds from question to the first human answer (None until answered)
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    #: the FAQ entry that matched when it was asked, by key (the text itself is never stored)
    faq_key: Mapped[str | None] = mapped_column(String(16))


class SopState(Base):
    """Facts about this deployment the engine keeps (when it first ran…)."""

    __tablename__ = "sop_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
