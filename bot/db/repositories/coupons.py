"""Coupon codes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Coupon


class CouponRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_member(self, user_id: int, campaign: str) -> list[Coupon]:
        result = await self._session.execute(
            select(Coupon).where(Coupon.user_id == user_id, Coupon.campaign == campaign)
            .order_by(Coupon.id))
        return list(result.scalars().all())

    async def issued_count(self, campaign: str) -> int:
        result = await self._session.execute(
            select(func.count()).select_from(Coupon).where(Coupon.campaign == campaign))
        return int(result.scalar_one())

    async def code_exists(self, code: str) -> bool:
        result = await self._session.execute(select(Coupon.id).where(Coupon.code == code))
        return result.first() is not None

    async def add(self, coupon: Coupon) -> Coupon:
        self._session.add(coupon)
        await self._session.flush()
        return coupon
