"""What the privacy room keeps (issue 15): each member's notice, consent and opt-out, the log of
those, and the suppression list of erased members (a keyed hash of the id, never the id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class PrivacyState(Base):
    """One row per member the bot has told of its privacy notice (or who acted on it)."""

    __tablename__ = "privacy_states"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    notice_version: Mapped[int | None] = mapped_column(Integer)
    notice_shown_at: Mapped[datetime | None]
    #: pressed "Agree" (``privacy.require_consent``), to that notice version
    consented_at: Mapped[datetime | None]
    consent_version: Mapped[int | None] = mapped_column(Integer)
    #: ``/stop``: no marketing DMs until ``/start``
    opted_out_at: Mapped[datetime | None]
    #: the one-time token of the pending ``/forget`` button (``None``: nothing to confirm)
    forget_token: Mapped[str | None] = mapped_column(String(32))


class PrivacyEvent(Base):
    """The consent log: each notice shown, agreement, opt-out, opt-in, export and erasure."""

    __tablename__ = "privacy_events"
    __table_args__ = (Index("ix_privacy_events_user", "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]


class Suppression(Base):
    """An erased member: HMAC-SHA-256 of their id (hex). Nothing is sent to them until they
    ``/start`` again; the list is also what a restore re-applies."""

    __tablename__ = "privacy_suppressions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
