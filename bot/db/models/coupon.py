"""Coupon codes issued to members."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class IssuedBy(StrEnum):
    """``coupons.issued_by``: what issued a coupon."""

    WELCOME = "welcome"
    HOOK = "hook"
    WINBACK = "winback"
    REFERRAL = "referral"
    OPERATOR = "operator"


class Via(StrEnum):
    """How a coupon was redeemed (``coupons.redeemed_via``) or an order reported
    (``orders.via``: the orders endpoint or an import, never an operator)."""

    OPERATOR = "operator"
    API = "api"
    IMPORT = "import"


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        Index("ix_coupons_member_campaign", "user_id", "campaign"),
        #: the dashboard's campaign conversion of a period (issue 16)
        Index("ix_coupons_issued", "issued_at", "campaign", "issued_by", "redeemed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: stored plain: members are shown their own code again; see README "Coupons"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    campaign: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("members.user_id"))
    #: what issued it (:class:`IssuedBy`)
    issued_by: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    #: how it was redeemed (:class:`Via`)
    redeemed_via: Mapped[str | None] = mapped_column(String(16))
    #: the shop's order id it was redeemed with (orders endpoint or import)
    order_id: Mapped[str | None] = mapped_column(String(64))
