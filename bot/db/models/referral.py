"""Referrals: a member's personal invite link and the newcomers who joined through it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class ReferralStatus(StrEnum):
    """``referrals.status``."""

    #: waiting for the stay
    PENDING = "pending"
    REWARDED = "rewarded"
    #: left before the stay
    LEFT = "left"
    #: joined through their own link
    SELF = "self"
    #: the bot knew the newcomer before: no credit
    KNOWN = "known"


class ReferralLink(Base):
    """One personal invite link per member, created once and shown again."""

    __tablename__ = "referral_links"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int]
    invite_link: Mapped[str] = mapped_column(String(128))
    #: the link's name on Telegram (``ref-<user id>-<random>``): what join updates carry
    name: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]


class Referral(Base):
    """A newcomer who joined through a member's link (one row per newcomer, ever)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    invitee_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    referrer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int]
    membership_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[datetime]
    #: a :class:`ReferralStatus`
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_at: Mapped[datetime | None]
