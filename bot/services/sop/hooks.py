"""Keyword hooks ("reply 666 for the guide"): the promised material, a tag, maybe a coupon."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, HookConfig
from bot.db.models import IssuedBy, Member
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import HookRepository, MemberRepository, RollupRepository, TagRepository
from bot.errors import CouponError
from bot.services.commerce.coupons import CouponCapReachedError, CouponService
from bot.services.dto import GroupMessage
from bot.services.messenger import Messenger, url_button
from bot.services.welcome.service import BotIdentity
from sop.engine import SopEngine
from sop.payload import HOOK_PREFIX

log = logging.getLogger(__name__)


class HookService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        coupons: CouponService,
        identity: BotIdentity,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._coupons = coupons
        self._identity = identity
        self._hits = HookRepository(session)
        self._tags = TagRepository(session)
        self._members = MemberRepository(session)
        self._rollups = RollupRepository(session)

    async def on_message(self, message: GroupMessage, now: datetime) -> int:
        """Fires the hooks the message's keywords name; returns how many fired."""
        if not message.text:
            return 0
        fired = 0
        for hook_id in self._engine.hooks_in(message.text):
            hook = self._hook(hook_id)
            if hook is None:
                continue
            times = await self._hits.hit(hook.id, message.person.id, now)
            if hook.once_per_member and times > 1:
                continue
            fired += 1
            await self._rollups.add(
                message.chat_id, now.astimezone(self._config.tz).date(), hooks_triggered=1
            )
            if hook.tag:
                await self._tags.add(message.person.id, hook.tag, "hook", now)
            await self._answer(hook, message, times, now)
        return fired

    async def on_private(self, user_id: int, text: str, now: datetime) -> int:
        """A member wrote a hook keyword to the bot in private (the service desk asks): the
        material comes by DM right there. Returns how many hooks fired."""
        member = await self._members.get(user_id)
        if member is None or not text:
            return 0
        fired = 0
        for hook_id in self._engine.hooks_in(text):
            hook = self._hook(hook_id)
            if hook is None:
                continue
            times = await self._hits.hit(hook.id, user_id, now)
            if hook.once_per_member and times > 1:
                continue
            fired += 1
            if hook.tag:
                await self._tags.add(user_id, hook.tag, "hook", now)
            await self._dm(hook, member, f"hook-pm:{hook.id}:{user_id}:{times}", now)
        return fired

    async def on_start(self, hook_id: str, user_id: int, now: datetime) -> bool:
        """``/start hook-<id>`` (after the welcome's part): the member asked for the hook's
        material in private, where a coupon code may go. Once per member."""
        hook = self._hook(hook_id)
        member = await self._members.get(user_id)
        if hook is None or member is None or not await self._hits.has(hook.id, user_id):
            return False  # only for those who said the keyword: the button is seen by all
        await self._dm(hook, member, f"hook-dm:{hook.id}:{user_id}", now)
        return True

    async def _answer(
        self, hook: HookConfig, message: GroupMessage, times: int, now: datetime
    ) -> None:
        key = f"hook:{hook.id}:{message.person.id}:{times}"
        wants_dm = hook.reply == "dm" or hook.coupon is not None  # codes never go in the group
        member = await self._members.get(message.person.id)
        if wants_dm and member is not None and member.reachable:
            await self._dm(hook, member, key, now)
            return
        renderer = self._messenger.renderer
        locale = renderer.locale_for(message.person.language_code)
        if wants_dm:  # the bot may not DM them yet: a button that starts it
            label = self._messenger.label("hook_claim_button", locale, fallback="👉")
            await self._messenger.send(
                key=key,
                chat_id=message.chat_id,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.HOOK,
                template="hook_claim",
                locale=renderer.default_locale,
                now=now,
                context={"name": message.person.first_name},
                reply_to=message.message_id,
                reply_markup=url_button(label, self._identity.deep_link(HOOK_PREFIX + hook.id)),
            )
            return
        await self._messenger.send(
            key=key,
            chat_id=message.chat_id,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.HOOK,
            template=hook.template,
            locale=renderer.default_locale,
            now=now,
            context={"name": message.person.first_name, "coupon": None},
            reply_to=message.message_id,
        )

    async def _dm(self, hook: HookConfig, member: Member, key: str, now: datetime) -> None:
        coupon = None
        if hook.coupon:
            try:
                issued = await self._coupons.issue(
                    member.user_id, hook.coupon, issued_by=IssuedBy.HOOK, now=now
                )
                spec = self._config.coupons[hook.coupon]
                coupon = {
                    "code": issued.code,
                    "title": spec.title,
                    "discount": spec.discount,
                    "expires": issued.expires_at.astimezone(self._config.tz).strftime("%Y-%m-%d"),
                }
            except CouponCapReachedError:  # used theirs: the answer goes without a code
                log.info("hook %s: %d has used their %s code", hook.id, member.user_id, hook.coupon)
            except CouponError as error:
                log.warning("hook %s: no coupon for %d: %s", hook.id, member.user_id, error.reason)
        await self._messenger.send(
            key=key,
            chat_id=member.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.HOOK,
            template=hook.template,
            locale=self._messenger.renderer.locale_for(member.language_code),
            now=now,
            context={"name": member.first_name, "coupon": coupon},
        )

    def _hook(self, hook_id: str) -> HookConfig | None:
        return next((h for h in self._config.hooks if h.id == hook_id), None)
