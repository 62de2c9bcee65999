"""The welcome SOP: a batched group greeting for every joiner, a gift pack for every newcomer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityChat, CommunityConfig
from bot.db.models import GLOBAL_CHAT, Coupon, IssuedBy, Member, Membership, OutboxMessage
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository, MembershipRepository, RollupRepository
from bot.db.repositories.moderation import RulesRepository
from bot.errors import CouponError, TemplateRenderError
from bot.rendering import Renderer
from bot.services.commerce.coupons import CouponService
from bot.services.dto import Person
from bot.services.members.ledger import LedgerService
from bot.services.messenger import Call, Messenger, url_button
from sop.payload import PayloadKind, StartPayload
from sop.welcome import Joiner, plan_greetings

log = logging.getLogger(__name__)

#: characters of a name shown in a greeting (Telegram allows 64; 50 mentions fit a message)
MAX_NAME = 64


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str
    #: the key of the privacy room's suppression hashes (bot/services/privacy_keys.py)
    privacy_key: bytes = field(default=b"", repr=False)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.username}?start={payload}"


class WelcomeService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        ledger: LedgerService,
        coupons: CouponService,
        identity: BotIdentity,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._ledger = ledger
        self._coupons = coupons
        self._identity = identity
        self._members = MemberRepository(session)
        self._stints = MembershipRepository(session)

    # -- arrivals -----------------------------------------------------------------------------
    async def on_start(
        self, person: Person, payload: StartPayload, update_id: int, now: datetime
    ) -> bool:
        """``/start``: the member is recorded (and may be DMed from now on); a newcomer gets
        the gift pack. Returns whether it answered (a hook deep link leaves the answer to
        HookService.on_start, and :meth:`reply_start` when that has nothing to give)."""
        member = await self._ledger.record_start(person, payload, now)
        if member.gift_sent_at is None and self._config.welcome.enabled:
            await self.send_gift(member, now)
            return True
        if payload.kind is PayloadKind.HOOK:
            return False
        await self.reply_start(person, payload, update_id, now)
        return True

    async def reply_start(
        self, person: Person, payload: StartPayload, update_id: int, now: datetime
    ) -> None:
        """The plain answer to /start (the member's codes again when they claim the gift)."""
        member = await self._members.get(person.id)
        if member is None:
            return
        template = "gift_already" if payload.kind is PayloadKind.GIFT else "start"
        codes = []
        if payload.kind is PayloadKind.GIFT and self._config.welcome.gift_coupon:
            codes = [c.code for c in await self._coupons_of(member)]
        await self._messenger.send(
            key=f"reply:{update_id}",
            chat_id=person.id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template=template,
            locale=self._messenger.renderer.locale_for(member.language_code),
            now=now,
            context={
                "name": member.first_name,
                "codes": codes,
                "communities": [c.title for c in self._config.communities],
            },
        )

    async def on_join_request(
        self, chat_id: int, person: Person, invite_link: str | None, now: datetime
    ) -> None:
        """DM the gift pack while we may (until the request is processed), then approve."""
        await self._ledger.record_join_request(person, invite_link, now)
        await self.admit_request(chat_id, person.id, now)

    async def admit_request(self, chat_id: int, user_id: int, now: datetime) -> None:
        """The gift pack by DM (once per member), then the approval of the join request (made by
        the delivery loop once the DM is settled: the DM may only go before it)."""
        member = await self._members.get(user_id)
        approve = None
        if self._config.welcome.approve_join_requests:
            approve = Call(
                key=f"approve:{chat_id}:{user_id}:{int(now.timestamp())}",
                chat_id=chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.APPROVE,
                method="approveChatJoinRequest",
                payload={"user_id": user_id},
            )
        queued = None
        if member is not None and member.gift_sent_at is None and self._config.welcome.enabled:
            queued = await self.send_gift(member, now, then=approve)
        if queued is None and approve is not None:
            await self._messenger.call(approve, now)

    async def on_join(
        self,
        chat_id: int,
        person: Person,
        invite_link: str | None,
        now: datetime,
        *,
        via_join_request: bool = False,
        at: datetime | None = None,
        held: bool = False,
    ) -> Membership | None:
        """Someone joined at ``at`` (Telegram's time; ``now`` when unknown); the new stint, or
        ``None`` (a join already known, a bot). ``held``: join protection challenges the
        member first; the gift waits for :meth:`send_gift_if_owed`."""
        if person.is_bot:
            return None
        stint = await self._ledger.record_join(
            chat_id,
            person,
            invite_link=invite_link,
            via_join_request=via_join_request,
            now=now,
            at=at,
        )
        if stint is None:
            return None
        if not held:
            await self.send_gift_if_owed(person.id, now)
        return stint

    async def send_gift_if_owed(self, user_id: int, now: datetime) -> None:
        """The gift pack to a member who joined, when they can be messaged and have none."""
        member = await self._members.get(user_id)
        if (
            member is not None
            and member.reachable
            and member.gift_sent_at is None
            and self._config.welcome.enabled
        ):
            await self.send_gift(member, now)

    async def send_gift(
        self, member: Member, now: datetime, *, then: Call | None = None
    ) -> int | None:
        """The gift pack by DM, once per member: materials and the newcomer coupon."""
        coupon = None
        campaign = self._config.welcome.gift_coupon
        if campaign:
            try:
                coupon = await self._coupons.issue(
                    member.user_id, campaign, issued_by=IssuedBy.WELCOME, now=now
                )
            except CouponError as error:
                log.warning("no gift coupon for member %d: %s", member.user_id, error.reason)
        spec = self._config.coupons.get(campaign) if campaign else None
        locale = self._messenger.renderer.locale_for(member.language_code)
        context = {
            "name": member.first_name,
            "coupon": None
            if coupon is None or spec is None
            else {
                "code": coupon.code,
                "title": spec.title,
                "discount": spec.discount,
                "expires": coupon.expires_at.astimezone(self._config.tz).strftime("%Y-%m-%d"),
            },
            "communities": [c.title for c in self._config.communities],
        }
        queued = await self._messenger.send(
            key=f"gift:{member.user_id}",
            chat_id=member.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.WELCOME_DM,
            template=self._config.welcome.dm_template,
            locale=locale,
            context=context,
            now=now,
            then=then,
        )
        if queued is not None:
            member.gift_sent_at = now
        return queued

    async def _coupons_of(self, member: Member) -> list[Coupon]:
        campaign = self._config.welcome.gift_coupon
        return await self._coupons.owned(member.user_id, campaign) if campaign else []

    # -- the group greeting -------------------------------------------------------------------
    async def plan_group_greetings(self, now: datetime) -> datetime | None:
        """Queues the greetings that are due; returns when to look again."""
        welcome = self._config.welcome
        next_check: datetime | None = None
        if not welcome.enabled:
            return None
        for community in self._config.communities:
            waiting = await self._stints.awaiting_greeting(community.chat_id, limit=5000)
            plan = plan_greetings(
                [Joiner(s.id, s.joined_at) for s in waiting],
                now,
                batch_window=welcome.group_batch,
                max_mentions=welcome.max_mentions,
            )
            by_id = {s.id: s for s in waiting}
            for batch in plan.batches:
                if not await self._greet(community, [by_id[i] for i in batch], now):
                    break  # template broken (team told): the joiners wait for a fix
            if plan.next_check is not None:
                next_check = (
                    plan.next_check if next_check is None else min(next_check, plan.next_check)
                )
        return next_check

    async def _greet(
        self, community: CommunityChat, stints: list[Membership], now: datetime
    ) -> bool:
        """Queues one greeting mentioning ``stints``; a greeting too long for one message (long
        names, a wordy operator template) is split in halves until it fits."""
        members = [await self._members.get(s.user_id) for s in stints]
        gift_url = self._identity.deep_link("gift")
        context = {
            "community": community.title,
            "members": [
                {"id": m.user_id, "name": (m.first_name or "👋")[:MAX_NAME]}
                for m in members
                if m is not None
            ],
            "gift_url": gift_url,
            # the pinned rules post (``/rules post``), or None: the greeting links to it
            "rules_link": await RulesRepository(self._session).pinned_message_link(
                community.chat_id
            ),
        }
        locale = self._messenger.renderer.default_locale
        button = self._messenger.label("claim_button", locale, fallback="🎁")
        outbox_id = await self._messenger.send(
            key=f"greet:{community.chat_id}:{stints[0].id}",
            chat_id=community.chat_id,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.WELCOME_GROUP,
            template=self._config.welcome.template,
            locale=locale,
            context=context,
            now=now,
            reply_markup=url_button(button, gift_url),
        )
        if outbox_id is not None:
            await self._stints.assign_greeting([s.id for s in stints], outbox_id)
            return True
        if len(stints) == 1:
            return False
        half = len(stints) // 2
        return await self._greet(community, stints[:half], now) and await self._greet(
            community, stints[half:], now
        )


class _Loaded(Protocol):
    @property
    def config(self) -> CommunityConfig: ...

    @property
    def renderer(self) -> Renderer: ...


class ConfigHolderLike(Protocol):
    """The running config (a reload swaps it): ``bot.runtime.ConfigHolder``."""

    @property
    def loaded(self) -> _Loaded: ...


class WelcomeDeliveryHook:
    """Delivery effects of the welcome SOP: a greeting delivered welcomes whom it mentions; a
    gift pack that could not be delivered is owed again."""

    def __init__(self, holder: ConfigHolderLike) -> None:
        self._holder = holder

    @property
    def _config(self) -> CommunityConfig:
        return self._holder.loaded.config

    @property
    def _renderer(self) -> Renderer:
        return self._holder.loaded.renderer

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        if row.purpose == Purpose.WELCOME_GROUP:
            await MembershipRepository(session).mark_greeted(row.id, now)
        elif row.chat_kind == ChatKind.PRIVATE:
            await RollupRepository(session).add(
                GLOBAL_CHAT, now.astimezone(self._config.tz).date(), dm_sent=1
            )

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        await LedgerService(session, self._config.tz).mark_unreachable(row.chat_id, now)

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        reason = row.last_error or ""
        template = row.payload.get("_template")
        if "can't parse entities" in reason and isinstance(template, str):
            messenger = Messenger(session, self._renderer, self._config)
            await messenger.notify_template_failure(
                TemplateRenderError(template, f"Telegram refused it: {reason}"), now
            )
        if row.purpose == Purpose.WELCOME_GROUP and reason.startswith("gave up"):
            # an outage, not a refusal: the joiners go back to waiting for the next greeting
            await MembershipRepository(session).unassign_greeting(row.id)
        if row.purpose == Purpose.WELCOME_DM:
            member = await MemberRepository(session).get(row.chat_id)
            if member is not None:
                member.gift_sent_at = None  # still owed: the next /start or join sends it
        log.error("%s message %d to %d failed: %s", row.purpose, row.id, row.chat_id, reason)
