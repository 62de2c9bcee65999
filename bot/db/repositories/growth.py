"""Orders, referral links and referrals; finding a member by @username or id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import Member, Membership, Order, Referral, ReferralLink, ReferralStatus, Via
from bot.db.upsert import insert_for
from bot.ids import parse_user_id


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_new(
        self,
        *,
        order_id: str,
        user_id: int | None,
        coupon_code: str | None,
        amount_minor: int,
        currency: str | None,
        ordered_at: datetime,
        received_at: datetime,
        via: Via,
    ) -> bool:
        """Records the order; ``False`` when its id was recorded before (nothing changes)."""
        stmt = (
            insert_for(self._session, Order)
            .values(
                order_id=order_id,
                user_id=user_id,
                coupon_code=coupon_code,
                amount_minor=amount_minor,
                currency=currency,
                ordered_at=ordered_at,
                received_at=received_at,
                via=via,
            )
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(Order.id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def attribute(self, order_id: str, user_id: int) -> None:
        await self._session.execute(
            update(Order)
            .where(Order.order_id == order_id)
            .values(user_id=user_id)
            .execution_options(synchronize_session=False)
        )

    async def flag(self, order_id: str, flag: str) -> None:
        await self._session.execute(
            update(Order)
            .where(Order.order_id == order_id)
            .values(flag=flag)
            .execution_options(synchronize_session=False)
        )

    async def count_flagged(self, flag: str) -> int:
        result = await self._session.execute(
            select(func.count()).select_from(Order).where(Order.flag == flag)
        )
        return int(result.scalar_one())

    async def get(self, order_id: str) -> Order | None:
        result = await self._session.execute(select(Order).where(Order.order_id == order_id))
        return result.scalar_one_or_none()

    async def since(self, start: datetime) -> Sequence[tuple[int, int, datetime]]:
        """``(user_id, amount_minor, ordered_at)`` of attributed orders from ``start`` on."""
        result = await self._session.execute(
            select(Order.user_id, Order.amount_minor, Order.ordered_at).where(
                Order.ordered_at >= start, Order.user_id.is_not(None)
            )
        )
        return [(int(r[0] or 0), int(r[1]), r[2]) for r in result.all()]

    @staticmethod
    def buyers() -> Select[Any]:
        """``SELECT user_id`` of everyone with an attributed order."""
        return select(Order.user_id).where(Order.user_id.is_not(None))


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def link_of(self, user_id: int) -> ReferralLink | None:
        return await self._session.get(ReferralLink, user_id)

    async def add_link(self, link: ReferralLink) -> ReferralLink:
        self._session.add(link)
        await self._session.flush()
        return link

    async def uncredited_joins(self, limit: int = 500) -> Sequence[tuple[Membership, ReferralLink]]:
        """Stints begun through a referral link whose newcomer has no referral row yet, oldest
        first."""
        result = await self._session.execute(
            select(Membership, ReferralLink)
            .join(
                ReferralLink,
                and_(
                    Membership.invite_link == ReferralLink.name,
                    Membership.chat_id == ReferralLink.chat_id,
                ),
            )
            .where(~exists().where(Referral.invitee_id == Membership.user_id))
            .order_by(Membership.joined_at, Membership.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in result.all()]

    async def known_before(self, stint: Membership) -> bool:
        """Whether the bot knew the newcomer before this stint: an earlier stint anywhere, or
        seen (a /start, a message elsewhere) well before it began."""
        other = aliased(Membership)
        earlier = await self._session.execute(
            select(other.id)
            .where(
                other.user_id == stint.user_id,
                other.id != stint.id,
                other.joined_at <= stint.joined_at,
            )
            .limit(1)
        )
        if earlier.first() is not None:
            return True
        member = await self._session.get(Member, stint.user_id)
        return (
            member is not None
            and (member.first_seen_at - stint.joined_at).total_seconds() < -SEEN_SLACK
        )

    async def add(self, referral: Referral) -> bool:
        stmt = (
            insert_for(self._session, Referral)
            .values(
                invitee_id=referral.invitee_id,
                referrer_id=referral.referrer_id,
                chat_id=referral.chat_id,
                membership_id=referral.membership_id,
                joined_at=referral.joined_at,
                status=referral.status,
                decided_at=referral.decided_at,
            )
            .on_conflict_do_nothing(index_elements=["invitee_id"])
            .returning(Referral.id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def pending_due(self, joined_before: datetime, limit: int = 200) -> Sequence[Referral]:
        result = await self._session.execute(
            select(Referral)
            .where(Referral.status == ReferralStatus.PENDING, Referral.joined_at <= joined_before)
            .order_by(Referral.joined_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.scalars().all()

    async def first_pending_join(self) -> datetime | None:
        result = await self._session.execute(
            select(func.min(Referral.joined_at)).where(Referral.status == ReferralStatus.PENDING)
        )
        return result.scalar_one_or_none()

    async def of_referrer(self, user_id: int) -> dict[str, int]:
        result = await self._session.execute(
            select(Referral.status, func.count())
            .where(Referral.referrer_id == user_id)
            .group_by(Referral.status)
        )
        return {row[0]: int(row[1]) for row in result.all()}


#: a /start a few minutes before joining is the same visit, not an earlier acquaintance
SEEN_SLACK = 600


async def find_member(session: AsyncSession, ref: str) -> Member | None:
    """The member ``ref`` names: ``@username`` (case-insensitive) or a numeric id."""
    ref = ref.strip()
    if ref.lstrip("-").isdigit():
        user_id = parse_user_id(ref)
        return None if user_id is None else await session.get(Member, user_id)
    name = ref.removeprefix("@").lower()
    if not name:
        return None
    result = await session.execute(
        select(Member)
        .where(func.lower(Member.username) == name)
        .order_by(Member.last_seen_at.desc().nulls_last())
        .limit(1)
    )
    return result.scalar_one_or_none()
