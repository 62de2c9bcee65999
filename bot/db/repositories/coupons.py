"""Coupon codes."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Coupon, Member, Via


@dataclass(frozen=True)
class ConversionRow:
    """Codes of one campaign from one source (welcome, hook, operator…): issued → redeemed."""

    campaign: str
    source: str
    issued: int
    redeemed: int

    @property
    def rate(self) -> float | None:
        return self.redeemed / self.issued if self.issued else None


class CouponRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_member(self, user_id: int, campaign: str) -> list[Coupon]:
        result = await self._session.execute(
            select(Coupon)
            .where(Coupon.user_id == user_id, Coupon.campaign == campaign)
            .order_by(Coupon.id)
        )
        return list(result.scalars().all())

    async def of_member(self, user_id: int, limit: int = 1000) -> list[Coupon]:
        """Every code issued to ``user_id`` (the newest ``limit``), newest first; nobody
        else's."""
        result = await self._session.execute(
            select(Coupon).where(Coupon.user_id == user_id).order_by(Coupon.id.desc()).limit(limit)
        )
        return list(result.scalars().all())

    async def lock_member(self, user_id: int) -> None:
        """Holds the member's row until the transaction ends (PostgreSQL): two issues to one
        member at once take turns, so the per-member cap holds."""
        await self._session.execute(
            select(Member.user_id).where(Member.user_id == user_id).with_for_update()
        )

    async def lock_campaign(self, campaign: str) -> None:
        """Holds the campaign until the transaction ends (PostgreSQL advisory lock; SQLite
        transactions take turns anyway): issues against a budget take turns, so the budget
        holds."""
        if self._session.get_bind().dialect.name != "postgresql":
            return
        key = int.from_bytes(
            hashlib.blake2b(f"coupon-campaign:{campaign}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        await self._session.execute(select(func.pg_advisory_xact_lock(key)))

    async def issued_count(self, campaign: str) -> int:
        result = await self._session.execute(
            select(func.count()).select_from(Coupon).where(Coupon.campaign == campaign)
        )
        return int(result.scalar_one())

    async def code_exists(self, code: str) -> bool:
        result = await self._session.execute(select(Coupon.id).where(Coupon.code == code))
        return result.first() is not None

    async def by_code(self, code: str) -> Coupon | None:
        """Read afresh (an earlier redemption in this session does not update loaded rows)."""
        result = await self._session.execute(
            select(Coupon).where(Coupon.code == code).execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def add(self, coupon: Coupon) -> Coupon:
        self._session.add(coupon)
        await self._session.flush()
        return coupon

    async def redeem(
        self,
        code: str,
        now: datetime,
        *,
        via: Via,
        order_id: str | None,
        campaigns: Collection[str],
        owner: int | None = None,
    ) -> tuple[str, int] | None:
        """The one statement that redeems: ``(campaign, user_id)`` when this call won, ``None``
        when the code is unknown, used, expired, of a campaign not in ``campaigns`` (withdrawn
        from the config) or (with ``owner``) issued to someone else.
        Nothing is read before it, so on SQLite a second writer waits for the first to commit
        and then finds the code used."""
        stmt = (
            update(Coupon)
            .where(
                Coupon.code == code,
                Coupon.redeemed_at.is_(None),
                Coupon.expires_at > now,
                Coupon.campaign.in_(campaigns),
                *(() if owner is None else (Coupon.user_id == owner,)),
            )
            .values(redeemed_at=now, redeemed_via=via, order_id=order_id)
            .returning(Coupon.campaign, Coupon.user_id)
            .execution_options(synchronize_session=False)
        )
        row = (await self._session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def redeemed_count(self, user_id: int) -> int:
        result = await self._session.execute(
            select(func.count())
            .select_from(Coupon)
            .where(Coupon.user_id == user_id, Coupon.redeemed_at.is_not(None))
        )
        return int(result.scalar_one())

    async def conversion(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        campaign: str | None = None,
    ) -> list[ConversionRow]:
        """Per campaign and source: codes issued in ``[start, end)`` and how many of those were
        redeemed (at any time up to now). Ordered by campaign, then source."""
        redeemed = func.count(Coupon.redeemed_at)
        stmt = (
            select(Coupon.campaign, Coupon.issued_by, func.count(), redeemed)
            .group_by(Coupon.campaign, Coupon.issued_by)
            .order_by(Coupon.campaign, Coupon.issued_by)
        )
        if start is not None:
            stmt = stmt.where(Coupon.issued_at >= start)
        if end is not None:
            stmt = stmt.where(Coupon.issued_at < end)
        if campaign is not None:
            stmt = stmt.where(Coupon.campaign == campaign)
        result = await self._session.execute(stmt)
        return [
            ConversionRow(campaign=row[0], source=row[1], issued=int(row[2]), redeemed=int(row[3]))
            for row in result.all()
        ]
