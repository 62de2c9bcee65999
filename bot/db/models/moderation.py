"""Community order: what moderation did (or would have done) and the complaint alerts.

No message text is kept: a deleted message is known by its chat, id and sender only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class ModAction(Base):
    """One moderation step: ``delete``, ``warn``, ``mute``, ``ban``, ``unmute``, ``unban``,
    ``unwarn``, ``report`` (report mode: what would have been done), by the bot (``by_user_id``
    NULL) or an operator."""

    __tablename__ = "mod_actions"
    __table_args__ = (
        Index("ix_mod_actions_member", "chat_id", "user_id", "action", "at"),
        Index("ix_mod_actions_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    user_id: Mapped[int]
    message_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(16))
    #: banned_word, contact, link, manual, …
    rule: Mapped[str] = mapped_column(String(32))
    by_user_id: Mapped[int | None]
    at: Mapped[datetime]
    until: Mapped[datetime | None]
    #: a warning taken back by /unwarn no longer counts
    revoked: Mapped[bool] = mapped_column(default=False)


class ModAlert(Base):
    """A complaint or crisis message (``source`` keyword) or a member's ``/report``, told to
    the team with claim and resolve buttons. Several complaints within minutes share the
    incident that the first of them opened (``incident_id``)."""

    __tablename__ = "mod_alerts"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", "source", name="uq_mod_alerts_message"),
        Index("ix_mod_alerts_chat_at", "chat_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    message_id: Mapped[int]
    user_id: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]
    incident_id: Mapped[int | None]
    claimed_by: Mapped[int | None]
    claimed_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None]
    resolved_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class Captcha(Base):
    """Join protection: one challenge of a newcomer (``kind`` ``request``: a join request asked
    by DM; ``join``: a plain joiner restricted and asked in the group). The timer is
    ``deadline``; a pending challenge past it is failed by the captcha loop, so a restart keeps
    it. ``token`` is in the buttons' callback data: random, so a press cannot be forged, and
    the press counts only from ``user_id`` in ``chat_id``."""

    __tablename__ = "captchas"
    __table_args__ = (
        Index("ix_captchas_status_deadline", "status", "deadline"),
        Index("ix_captchas_member", "chat_id", "user_id", "status"),
        Index("ix_captchas_token", "token"),
        # the greeting's hold (memberships awaiting greeting) and a group challenge's joiners
        Index("ix_captchas_stint", "stint_id"),
        Index("ix_captchas_challenge", "challenge_outbox_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int]
    user_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(24))
    #: the right button of a DM challenge (its index); 0 for a group challenge (one button)
    answer: Mapped[int]
    #: pending, passed, failed
    status: Mapped[str] = mapped_column(String(8))
    #: how it ended: right, wrong, timeout, left (the joiner left or the request was handled)
    outcome: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    deadline: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    #: a plain join's stint: its greeting waits until the challenge is passed
    stint_id: Mapped[int | None]
    #: the group challenge that mentions this joiner (set when its batch is planned), and the
    #: message it became (deleted when the joiner is removed)
    challenge_outbox_id: Mapped[int | None]
    message_id: Mapped[int | None]
