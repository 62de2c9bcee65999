"""Coupon codes: unique, unguessable, readable; issued within each campaign's caps."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import GLOBAL_CHAT, Coupon
from bot.db.repositories import CouponRepository, RollupRepository
from bot.errors import CouponError

#: no 0/O, no 1/I/L: a code read aloud or typed from a screenshot comes out right
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 5   # 15 symbols of 31: 74 bits of entropy


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(symbols[i:i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


class CouponService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._coupons = CouponRepository(session)
        self._rollups = RollupRepository(session)
        self._config = config

    async def owned(self, user_id: int, campaign: str) -> list[Coupon]:
        return await self._coupons.for_member(user_id, campaign)

    async def issue(self, user_id: int, campaign: str, *, issued_by: str,
                    now: datetime) -> Coupon:
        """A new code for ``user_id``, or their existing one when the per-member cap is reached.

        Raises :class:`CouponError` for an unknown campaign or a spent budget.
        """
        spec = self._config.coupons.get(campaign)
        if spec is None:
            raise CouponError(f"no coupon campaign named {campaign!r}")
        owned = await self._coupons.for_member(user_id, campaign)
        if len(owned) >= spec.per_member:
            return owned[-1]
        if spec.budget is not None and await self._coupons.issued_count(campaign) >= spec.budget:
            raise CouponError(f"the budget of campaign {campaign!r} is spent")
        code = new_code()
        while await self._coupons.code_exists(code):  # 74 bits: practically never loops
            code = new_code()
        coupon = await self._coupons.add(Coupon(
            code=code, campaign=campaign, user_id=user_id, issued_by=issued_by, issued_at=now,
            expires_at=now + timedelta(days=spec.valid_days)))
        tz: ZoneInfo = self._config.tz
        await self._rollups.add(GLOBAL_CHAT, now.astimezone(tz).date(), coupons_issued=1)
        return coupon
