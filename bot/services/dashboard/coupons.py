"""Campaign conversion for the dashboard: codes issued (in the period) and redeemed, per
campaign and per source (what issued them: welcome, hook, win-back, referral, operator) — the
figures and grouping of ``/coupon stats`` (``CouponRepository.conversion``, ``conversion_view``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.repositories.coupons import ConversionRow, CouponRepository
from bot.services.commerce.coupon_admin import conversion_view

MOST_DAYS = 366


@dataclass(frozen=True)
class CampaignConversion:
    campaign: str
    title: str
    issued: int
    redeemed: int
    sources: list[ConversionRow]

    @property
    def rate(self) -> float | None:
        return self.redeemed / self.issued if self.issued else None


@dataclass(frozen=True)
class CouponsReport:
    #: ``None``: every code issued so far
    days: int | None
    campaigns: list[CampaignConversion]


class CouponsQuery:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._config = config
        self._coupons = CouponRepository(session)

    async def conversion(self, days: int | None, now: datetime) -> CouponsReport:
        """Codes issued in the last ``days`` local days (``None``: ever), every configured
        campaign listed even without codes."""
        start = None
        if days is not None:
            days = max(1, min(days, MOST_DAYS))
            first = now.astimezone(self._config.tz).date() - timedelta(days=days - 1)
            start = datetime.combine(first, time(), tzinfo=self._config.tz)
        rows = await self._coupons.conversion(start=start)
        grouped = conversion_view(rows, self._config, list(self._config.coupons))
        return CouponsReport(
            days,
            [
                CampaignConversion(
                    campaign=entry["campaign"],
                    title=entry["title"],
                    issued=entry["issued"],
                    redeemed=entry["redeemed"],
                    sources=[r for r in rows if r.campaign == entry["campaign"]],
                )
                for entry in grouped
            ],
        )
