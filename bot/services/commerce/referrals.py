"""Referrals: ``/invite`` gives a member a personal invite link (created once, shown again); a
newcomer who joins through it credits the member; once the newcomer has stayed
``referral.stay_days`` both get the referral coupon by DM.

Credit is decided from the ledger (the stint's invite link name, which Telegram puts in the
``chat_member`` update), by a periodic check: no self-referral, no credit for someone the bot
knew before (an earlier stint anywhere, or seen well before joining), one credit per newcomer
ever; a newcomer who leaves before the stay ends earns nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.growth import ReferralConfig
from bot.db.models import IssuedBy, Member, Membership, Referral, ReferralLink, ReferralStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MembershipRepository
from bot.db.repositories.growth import ReferralRepository
from bot.errors import CouponError, SopbotError
from bot.services.commerce.coupon_admin import coupon_view
from bot.services.commerce.coupons import CouponCapReachedError, CouponService
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger
from sop.engine import SopEngine

log = logging.getLogger(__name__)

REWARD_DM = "referral_reward"
#: credit and rewards are looked at least this often
CHECK_EVERY = timedelta(minutes=10)


class InviteLinkError(SopbotError):
    """Telegram would not make the invite link (the bot is not an admin there…)."""


CreateLink = Callable[[int, str], Awaitable[str]]
IsMember = Callable[[int, int], Awaitable[bool]]


class ReferralService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        coupons: CouponService,
        engine: SopEngine,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._coupons = coupons
        self._engine = engine
        self._referrals = ReferralRepository(session)
        self._stints = MembershipRepository(session)

    @property
    def settings(self) -> ReferralConfig | None:
        referral = self._config.referral
        return referral if referral is not None and referral.enabled else None

    def community(self) -> int:
        referral = self._config.referral
        if referral is not None and referral.chat_id is not None:
            return referral.chat_id
        return self._config.communities[0].chat_id

    async def answer_invite(
        self,
        origin: Origin,
        person: Person,
        now: datetime,
        *,
        is_member: IsMember,
        create_link: CreateLink,
    ) -> None:
        """``/invite`` in a private chat: the member's link, made on first asking."""
        template, context = await self._invite(person, now, is_member, create_link)
        locale = self._messenger.renderer.locale_for(person.language_code)
        await self._messenger.send(
            key=f"reply:{origin.update_id}",
            chat_id=origin.chat_id,
            chat_kind=origin.chat_kind,
            purpose=Purpose.REPLY,
            template=template,
            locale=locale,
            context=context,
            now=now,
        )

    async def _invite(
        self, person: Person, now: datetime, is_member: IsMember, create_link: CreateLink
    ) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        if settings is None:
            return "invite_off", {}
        chat_id = self.community()
        community = self._config.community(chat_id)
        title = community.title if community else ""
        spec = self._config.coupons[settings.coupon]
        context: dict[str, Any] = {
            "community": title,
            "stay_days": settings.stay_days,
            "title": spec.title,
            "discount": spec.discount,
        }
        link = await self._referrals.link_of(person.id)
        if link is None:
            member = await self._stints.open_stint(
                chat_id, person.id
            ) is not None or await is_member(chat_id, person.id)
            if not member:
                return "invite_not_member", context
            name = f"ref-{person.id}-{secrets.token_hex(3)}"
            try:
                url = await create_link(chat_id, name)
            except InviteLinkError as error:
                log.warning("no invite link for %d: %s", person.id, error)
                return "invite_unavailable", context
            link = await self._referrals.add_link(
                ReferralLink(
                    user_id=person.id,
                    chat_id=chat_id,
                    invite_link=url[:128],
                    name=name,
                    created_at=now,
                )
            )
        counts = await self._referrals.of_referrer(person.id)
        return "invite_link", {
            **context,
            "link": link.invite_link,
            "pending": counts.get(ReferralStatus.PENDING, 0),
            "rewarded": counts.get(ReferralStatus.REWARDED, 0),
        }

    # -- the periodic check -------------------------------------------------------------------
    async def credit_joins(self, now: datetime) -> int:
        """Newcomers who joined through a referral link get a referral row: pending, or why
        not (self, known). Returns how many were looked at."""
        seen: set[int] = set()
        looked = 0
        for stint, link in await self._referrals.uncredited_joins():
            if stint.user_id in seen:  # two stints through links: the first one counts
                continue
            seen.add(stint.user_id)
            looked += 1
            if stint.user_id == link.user_id:
                status = ReferralStatus.SELF
            elif await self._referrals.known_before(stint):
                status = ReferralStatus.KNOWN
            else:
                status = ReferralStatus.PENDING
            await self._referrals.add(
                Referral(
                    invitee_id=stint.user_id,
                    referrer_id=link.user_id,
                    chat_id=stint.chat_id,
                    membership_id=stint.id,
                    joined_at=stint.joined_at,
                    status=status,
                    decided_at=None if status == ReferralStatus.PENDING else now,
                )
            )
            log.info(
                "referral: %d joined through %d's link: %s", stint.user_id, link.user_id, status
            )
        return looked

    async def reward_due(self, now: datetime) -> int:
        """Pending referrals whose newcomer has stayed long enough: both get the coupon, or,
        had the newcomer left before, nothing. Returns how many were rewarded."""
        settings = self.settings
        if settings is None:
            return 0
        stay = timedelta(days=settings.stay_days)
        rewarded = 0
        for referral in await self._referrals.pending_due(now - stay):
            stint = await self._session.get(Membership, referral.membership_id)
            referral.decided_at = now
            if stint is None or (
                stint.left_at is not None and stint.left_at < referral.joined_at + stay
            ):
                referral.status = ReferralStatus.LEFT
                continue
            referral.status = ReferralStatus.REWARDED
            rewarded += 1
            for user_id, role, friend in (
                (referral.referrer_id, "referrer", referral.invitee_id),
                (referral.invitee_id, "newcomer", referral.referrer_id),
            ):
                await self._reward(user_id, role, friend, settings.coupon, referral.id, now)
        return rewarded

    async def _reward(
        self,
        user_id: int,
        role: str,
        friend_id: int,
        campaign: str,
        referral_id: int,
        now: datetime,
    ) -> None:
        member = await self._session.get(Member, user_id)
        if member is None:
            return
        before = len(await self._coupons.owned(user_id, campaign))
        try:
            coupon = await self._coupons.issue(
                user_id, campaign, issued_by=IssuedBy.REFERRAL, now=now
            )
        except CouponCapReachedError:
            log.info(
                "referral %d: %d is at the per-member cap of %s", referral_id, user_id, campaign
            )
            return
        except CouponError as error:
            log.warning("referral %d: no coupon for %d: %s", referral_id, user_id, error.reason)
            return
        if len(await self._coupons.owned(user_id, campaign)) == before:
            log.info(
                "referral %d: %d is at the per-member cap of %s", referral_id, user_id, campaign
            )
            return
        if not member.reachable:
            log.info(
                "referral %d: %d cannot be messaged; the code waits in their coupons",
                referral_id,
                user_id,
            )
            return
        friend = await self._session.get(Member, friend_id)
        locale = self._messenger.renderer.locale_for(member.language_code)
        await self._messenger.send(
            key=f"referral:{referral_id}:{role}",
            chat_id=user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REFERRAL_REWARD,
            template=REWARD_DM,
            locale=locale,
            context={
                "name": member.first_name,
                "role": role,
                "friend": friend.first_name if friend else "",
                "coupon": coupon_view(coupon, self._config),
            },
            now=now,
            due_at=self._engine.dm_time(now),
        )

    async def next_due(self, now: datetime) -> datetime:
        settings = self.settings
        first = await self._referrals.first_pending_join()
        wake = now + CHECK_EVERY
        if settings is not None and first is not None:
            # never "now": a referral left pending must not spin the loop
            wake = min(
                wake, max(now + timedelta(seconds=1), first + timedelta(days=settings.stay_days))
            )
        return wake
