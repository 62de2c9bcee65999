"""Member lifecycle, interests, behaviour rules and win-back.

Stages, one per member, in order of precedence at any moment:

- ``active``: spoke in a community within ``tags.lifecycle.silent`` (7 days);
- ``new``: first seen within ``tags.lifecycle.new`` (30 days) and not active;
- ``silent``: no message for ``silent`` (7 days), but within ``churned`` (90 days);
- ``churned``: no message (or, never having spoken, no arrival) for ``churned`` (90 days).

A message moves its author to ``active`` at once (a silent or churned member counts as
*reactivated*, in the community where they spoke). Time moves everyone else along in one daily
pass at ``tags.daily_at`` (local time): set-based SQL, claimed per local day so that two
instances never both run it; it also refreshes the behaviour-rule tags, writes the day's
``silent_members`` snapshot and then sends the win-back DMs in batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import IssuedBy, Member
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository, RollupRepository, TagRepository
from bot.db.repositories.lifecycle import LifecycleRepository
from bot.db.repositories.privacy import marketing_allowed
from bot.errors import CouponError
from bot.services.commerce.coupons import CouponCapReachedError, CouponService
from bot.services.dto import GroupMessage
from bot.services.members.segments import SegmentService
from bot.services.messenger import Messenger
from sop.engine import SopEngine

log = logging.getLogger(__name__)

PASS = "lifecycle"
INTEREST_PREFIX = "interest:"
#: win-back DMs prepared per transaction
WINBACK_BATCH = 100


@dataclass(frozen=True)
class PassResult:
    day: date
    moved: int
    rules: dict[str, tuple[int, int]] = field(default_factory=dict)
    silent: dict[int, int] = field(default_factory=dict)


class LifecycleService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        coupons: CouponService,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._coupons = coupons
        self._stages = LifecycleRepository(session)
        self._tags = TagRepository(session)
        self._members = MemberRepository(session)
        self._rollups = RollupRepository(session)
        self._segments = SegmentService(session, config)

    # -- on each community message -------------------------------------------------------------

    async def on_message(
        self, message: GroupMessage, now: datetime, *, seen_before: datetime | None = None
    ) -> None:
        """The author is active (reactivated when they were silent or churned); the
        interests their words show become tags. The text is looked at, never stored.

        ``seen_before``: the author's previous message; within ``tags.lifecycle.silent`` of
        this one they are active already (that message made them so), and the stage is not
        even read — the common case costs no query."""
        user_id, at = message.person.id, message.sent_at or now
        recent = seen_before is not None and seen_before > at - self._config.tags.lifecycle.silent
        stage = "active" if recent else await self._stages.stage_of(user_id)
        if stage != "active":
            back = stage in ("silent", "churned")
            moved = await self._stages.move(
                user_id, stage, "active", at, "reactivated" if back else "message"
            )
            if moved and back:
                await self._rollups.add(message.chat_id, self.local_day(at), reactivated=1)
        if message.text and not message.from_operator:
            for name in self._engine.interests_in(message.text):
                await self._tags.add(user_id, INTEREST_PREFIX + name, "interest", now)

    # -- the daily pass ------------------------------------------------------------------------

    def pass_time(self, day: date) -> datetime:
        """When the pass for local ``day`` is due."""
        hour, minute = (int(part) for part in self._config.tags.daily_at.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=self._config.tz)

    def next_pass(self, now: datetime) -> datetime:
        """The next pass time after ``now`` (tomorrow's when today's has come)."""
        today = self.local_day(now)
        due = self.pass_time(today)
        return due if due > now else self.pass_time(today + timedelta(days=1))

    async def daily_pass(self, now: datetime) -> PassResult | None:
        """Today's pass, when its time has come and no one did it yet; else ``None``."""
        day = self.local_day(now)
        if now < self.pass_time(day) or not await self._stages.claim(PASS, day, now):
            return None
        lifecycle = self._config.tags.lifecycle
        moved = await self._stages.apply_stages(
            now, new=lifecycle.new, silent=lifecycle.silent, churned=lifecycle.churned
        )
        rules = {}
        for rule in self._config.tags.rules:
            since = since_day = None
            if rule.days is not None:
                since = now - timedelta(days=rule.days)
                since_day = day - timedelta(days=rule.days - 1)
            rules[rule.tag] = await self._stages.apply_rule(
                rule.tag, rule.metric, rule.at_least, since, since_day, now
            )
        silent = await self._stages.snapshot_silent(self._config.community_ids, day)
        await self._stages.record(PASS, day, moved=moved)
        log.info("lifecycle pass %s: %d members moved, rules %s", day, moved, rules)
        return PassResult(day=day, moved=moved, rules=rules, silent=silent)

    # -- win-back ------------------------------------------------------------------------------

    async def winback_batch(self, now: datetime, already: int) -> int:
        """Up to :data:`WINBACK_BATCH` win-back DMs (``already`` went today): coupon, DM at
        the first time outside quiet hours, cap clock restarted. Returns how many were
        queued; 0 when there is nobody left (or win-back is off, or its budget is spent)."""
        winback = self._config.winback
        if winback is None or not winback.enabled or already >= winback.daily_limit:
            return 0
        within = None if winback.segment is None else self._segments.user_ids(winback.segment, now)
        # members who sent /stop, were erased or (privacy.require_consent) have not agreed get
        # no win-back: not even a coupon issued for it
        allowed = marketing_allowed(self._config.privacy.require_consent)
        within = select(Member.user_id).where(allowed) if within is None else within.where(allowed)
        candidates = await self._stages.winback_candidates(
            now,
            after=winback.after,
            caps=winback.caps.by_tier(),
            other=winback.caps.other,
            within=within,
            limit=min(WINBACK_BATCH, winback.daily_limit - already),
        )
        spec = self._config.coupons[winback.coupon]
        day = self.local_day(now)
        due = self._engine.dm_time(now)
        queued = 0
        for user_id in candidates:
            member = await self._members.get(user_id)
            if member is None:
                continue
            try:
                coupon = await self._coupons.issue(
                    user_id, winback.coupon, issued_by=IssuedBy.WINBACK, now=now
                )
            except CouponCapReachedError:
                # nothing worth sending to this one; the cap clock restarts all the same
                await self._stages.mark_winback(user_id, now)
                continue
            except CouponError as error:
                log.warning("win-back stopped for today: %s", error.reason)
                await self._tell_team(day, error.reason, now)
                break
            context = {
                "name": member.first_name,
                "coupon": {
                    "code": coupon.code,
                    "title": spec.title,
                    "discount": spec.discount,
                    "expires": coupon.expires_at.astimezone(self._config.tz).strftime("%Y-%m-%d"),
                },
            }
            await self._messenger.send(
                key=f"winback:{user_id}:{day.isoformat()}",
                chat_id=user_id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.WINBACK,
                template=winback.template,
                locale=self._messenger.renderer.locale_for(member.language_code),
                context=context,
                now=now,
                due_at=due,
            )
            await self._stages.mark_winback(user_id, now)
            queued += 1
        await self._stages.record(PASS, day, winback=queued)
        return queued

    async def _tell_team(self, day: date, reason: str, now: datetime) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            return
        await self._messenger.send(
            key=f"team:winback-stopped:{day.isoformat()}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.TEAM,
            template="winback_stopped",
            locale=self._messenger.renderer.default_locale,
            context={"reason": reason},
            now=now,
        )

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self._config.tz).date()
