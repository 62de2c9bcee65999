"""Operators and coupons: ``/redeem CODE``, ``/coupon give @user|ID CAMPAIGN``, ``/coupon stats``.

Each returns the answer as a template name + context (the handler replies through
``services.team``); a code given to a member is only ever sent to that member's private chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Coupon, IssuedBy, Member, Via
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import CouponRepository
from bot.db.repositories.coupons import ConversionRow
from bot.db.repositories.growth import find_member
from bot.errors import CouponError
from bot.services.commerce.coupons import (
    CampaignBudgetSpentError,
    CampaignEndedError,
    CouponAlreadyRedeemedError,
    CouponRedeemError,
    CouponService,
    ExpiredCouponError,
    VoidCouponError,
)
from bot.services.messenger import Messenger

COUPON_DM = "coupon_dm"


@dataclass(frozen=True)
class Answer:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def member_view(member: Member | None, user_id: int) -> dict[str, Any]:
    if member is None:
        return {"id": user_id, "name": str(user_id), "username": None}
    return {
        "id": member.user_id,
        "name": member.first_name or str(member.user_id),
        "username": member.username,
    }


def coupon_view(coupon: Coupon, config: CommunityConfig) -> dict[str, Any]:
    spec = config.coupons.get(coupon.campaign)
    return {
        "code": coupon.code,
        "campaign": coupon.campaign,
        "title": spec.title if spec else coupon.campaign,
        "discount": spec.discount if spec else "",
        "expires": coupon.expires_at.astimezone(config.tz).strftime("%Y-%m-%d"),
    }


class CouponAdminService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        coupons: CouponService,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._coupons = coupons
        self._repo = CouponRepository(session)

    def _local(self, at: datetime) -> str:
        return at.astimezone(self._config.tz).strftime("%Y-%m-%d %H:%M")

    async def redeem(self, code: str, now: datetime) -> Answer:
        try:
            redeemed = await self._coupons.redeem(code, now, via=Via.OPERATOR)
        except CouponRedeemError as error:
            context: dict[str, Any] = {
                "kind": error.kind,
                "code": error.code,
                "malformed": getattr(error, "malformed", False),
            }
            if isinstance(error, ExpiredCouponError):
                context["when"] = self._local(error.expired_at)
            if isinstance(error, VoidCouponError):
                context["campaign"] = error.campaign
            if isinstance(error, CouponAlreadyRedeemedError):
                context["when"] = self._local(error.redeemed_at)
                context["via"] = error.coupon.redeemed_via or "?"
            return Answer("coupon_redeem_failed", context)
        member = await self._session.get(Member, redeemed.user_id)
        coupon = await self._repo.by_code(redeemed.code)
        assert coupon is not None
        return Answer(
            "coupon_redeemed",
            {
                "coupon": coupon_view(coupon, self._config),
                "member": member_view(member, redeemed.user_id),
            },
        )

    async def give(self, target: str, campaign: str, now: datetime) -> Answer:
        """Issues a code of ``campaign`` to the member and sends it by DM; the operator is told
        that it went (never the code: the team chat is a group)."""

        def refuse(reason: str, **extra: Any) -> Answer:
            return Answer(
                "coupon_give_failed",
                {"reason": reason, "target": target[:64], "campaign": campaign[:64], **extra},
            )

        spec = self._config.coupons.get(campaign)
        if spec is None:
            return refuse("campaign", known=sorted(self._config.coupons))
        member = await find_member(self._session, target)
        if member is None:
            return refuse("member")
        view = member_view(member, member.user_id)
        if not member.reachable:
            return refuse("unreachable", member=view)
        owned = await self._coupons.owned(member.user_id, campaign)
        if len(owned) >= spec.per_member:
            return refuse("cap", member=view, per_member=spec.per_member)
        try:
            coupon = await self._coupons.issue(
                member.user_id, campaign, issued_by=IssuedBy.OPERATOR, now=now
            )
        except CampaignBudgetSpentError as error:
            return refuse("budget", budget=error.budget)
        except CampaignEndedError:
            return refuse("ended", until=str(spec.valid_until))
        except CouponError as error:  # pragma: no cover - every kind is handled above
            return refuse("other", detail=error.reason)
        locale = self._messenger.renderer.locale_for(member.language_code)
        await self._messenger.send(
            key=f"coupon:{coupon.id}",
            chat_id=member.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.COUPON_DM,
            template=COUPON_DM,
            locale=locale,
            context={"name": member.first_name, "coupon": coupon_view(coupon, self._config)},
            now=now,
        )
        return Answer("coupon_given", {"member": view, "title": spec.title, "campaign": campaign})

    async def stats(self, campaign: str | None) -> Answer:
        """Conversion of every code issued so far: per campaign, then per source."""
        if campaign is not None and campaign not in self._config.coupons:
            return Answer(
                "coupon_give_failed",
                {
                    "reason": "campaign",
                    "target": "",
                    "campaign": campaign[:64],
                    "known": sorted(self._config.coupons),
                },
            )
        rows = await self._repo.conversion(campaign=campaign)
        names = [campaign] if campaign is not None else list(self._config.coupons)
        return Answer(
            "coupon_stats",
            {"campaigns": conversion_view(rows, self._config, names), "campaign": campaign},
        )


def conversion_view(
    rows: list[ConversionRow], config: CommunityConfig, names: tuple[str, ...] | list[str] = ()
) -> list[dict[str, Any]]:
    """Rows grouped by campaign: totals, then each source; ``names`` listed even without codes."""
    campaigns: dict[str, dict[str, Any]] = {}

    def entry_of(name: str) -> dict[str, Any]:
        spec = config.coupons.get(name)
        return campaigns.setdefault(
            name,
            {
                "campaign": name,
                "title": spec.title if spec else name,
                "issued": 0,
                "redeemed": 0,
                "sources": [],
            },
        )

    for name in names:
        entry_of(name)
    for row in rows:
        entry = entry_of(row.campaign)
        entry["issued"] += row.issued
        entry["redeemed"] += row.redeemed
        entry["sources"].append(
            {"source": row.source, "issued": row.issued, "redeemed": row.redeemed, "rate": row.rate}
        )
    for entry in campaigns.values():
        entry["rate"] = entry["redeemed"] / entry["issued"] if entry["issued"] else None
    return list(campaigns.values())
