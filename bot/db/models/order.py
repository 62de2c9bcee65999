"""Orders reported by shops (HTTP endpoint) or imported from CSV: the spend value tiers read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: the shop's own id: a second report of it is a duplicate, never counted twice
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: the buyer, given directly or found through the coupon; not necessarily a known member
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    coupon_code: Mapped[str | None] = mapped_column(String(32))
    #: in minor units (cents, fen): no floating point money
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    ordered_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime]
    #: ``Via.API`` or ``Via.IMPORT``
    via: Mapped[str] = mapped_column(String(8))
    #: what an operator should look at: ``coupon_not_owner`` (the coupon is another member's,
    #: so it was not redeemed)
    flag: Mapped[str | None] = mapped_column(String(32))
