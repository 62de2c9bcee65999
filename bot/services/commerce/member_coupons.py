"""``/mycoupons``: a member's own codes, each with its status and expiry, only ever in the
member's private chat. In a community the answer goes by DM when the bot may write to the
member; otherwise the group gets a pointer to the private chat (no code), at most once an hour
per member, sharing the refusals' ration (``bot/services/team.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Coupon
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories import CouponRepository, MemberRepository
from bot.db.repositories.refusals import RefusalNoticeRepository
from bot.services.commerce.coupons import withdrawn
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger
from bot.services.team import REFUSAL_NOTICE_EVERY
from bot.services.welcome.service import BotIdentity

#: codes listed in one answer (the rest are counted); with titles and discounts cut to
#: :data:`TITLE_CUT` and :data:`DISCOUNT_CUT` they stay well inside one message (4096)
MOST_SHOWN = 20
TITLE_CUT, DISCOUNT_CUT = 64, 24


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


class CouponStatus(StrEnum):
    """What a member is told of one of their codes."""

    OPEN = "open"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    #: its campaign was withdrawn (no longer under ``coupons`` in the config)
    VOID = "void"


def status_of(coupon: Coupon, config: CommunityConfig, now: datetime) -> CouponStatus:
    if coupon.redeemed_at is not None:
        return CouponStatus.REDEEMED
    if coupon.expires_at <= now:
        return CouponStatus.EXPIRED
    if withdrawn(coupon.campaign, config):
        return CouponStatus.VOID
    return CouponStatus.OPEN


class MemberCouponsService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        identity: BotIdentity,
    ) -> None:
        self._config = config
        self._messenger = messenger
        self._identity = identity
        self._coupons = CouponRepository(session)
        self._members = MemberRepository(session)
        self._notices = RefusalNoticeRepository(session)

    async def answer(self, origin: Origin, person: Person, now: datetime) -> None:
        """``/mycoupons`` from ``person``: their codes by DM (asked in private, or in a
        community by a member the bot may write to), else the pointer in the group."""
        locale = self._messenger.renderer.locale_for(person.language_code)
        if origin.chat_kind != ChatKind.PRIVATE:
            member = await self._members.get(person.id)
            if member is None or not member.reachable:
                if await self._notices.claim(person.id, now, REFUSAL_NOTICE_EVERY):
                    await self._messenger.send(
                        key=f"reply:{origin.update_id}",
                        chat_id=origin.chat_id,
                        chat_kind=origin.chat_kind,
                        purpose=Purpose.REPLY,
                        template="my_coupons_in_private",
                        locale=self._config.default_locale,
                        context={"bot": self._identity.username},
                        now=now,
                        reply_to=origin.message_id,
                    )
                return
        await self._messenger.send(
            key=f"reply:{origin.update_id}",
            chat_id=person.id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template="my_coupons",
            locale=locale,
            context=await self.listing(person, now),
            now=now,
            lane=SERVICE_LANE,  # a service answer: ahead of broadcasts and win-back
        )

    async def listing(self, person: Person, now: datetime) -> dict[str, Any]:
        """The member's codes: open ones first (the soonest to expire first), then the rest,
        newest first; at most :data:`MOST_SHOWN`."""
        owned = await self._coupons.of_member(person.id)
        statuses = {coupon.id: status_of(coupon, self._config, now) for coupon in owned}
        open_first = sorted(
            owned,
            key=lambda c: (
                statuses[c.id] != CouponStatus.OPEN,
                c.expires_at.timestamp()
                if statuses[c.id] == CouponStatus.OPEN
                else -c.issued_at.timestamp(),
            ),
        )
        return {
            "name": person.first_name,
            "coupons": [self._view(c, statuses[c.id]) for c in open_first[:MOST_SHOWN]],
            "more": max(0, len(owned) - MOST_SHOWN),
            "open": sum(1 for s in statuses.values() if s == CouponStatus.OPEN),
        }

    def _view(self, coupon: Coupon, status: CouponStatus) -> dict[str, Any]:
        spec = self._config.coupons.get(coupon.campaign)
        tz = self._config.tz
        return {
            "code": coupon.code,
            "campaign": coupon.campaign,
            "title": _cut(spec.title if spec else coupon.campaign, TITLE_CUT),
            "discount": _cut(spec.discount, DISCOUNT_CUT) if spec else "",
            "status": str(status),
            "expires": coupon.expires_at.astimezone(tz).strftime("%Y-%m-%d"),
            "redeemed": coupon.redeemed_at.astimezone(tz).strftime("%Y-%m-%d")
            if coupon.redeemed_at
            else None,
        }
