"""One member's card for the dashboard: who they are, their stage, tags and tag history,
coupons, orders and stints; and the manual tag edit, through ``/tag``'s own service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member, Membership, Order
from bot.db.models.tags import MemberStage
from bot.db.repositories import CouponRepository, TagRepository
from bot.services.commerce.member_coupons import status_of
from bot.services.members.tag_admin import TagAdminService
from bot.services.records.member_view import messages_within

#: at most this many of each history on the card
MOST_EVENTS, MOST_COUPONS, MOST_ORDERS, MOST_STINTS = 50, 50, 50, 20


@dataclass(frozen=True)
class TagLine:
    tag: str
    at: datetime
    by: str


@dataclass(frozen=True)
class TagEventLine:
    tag: str
    action: str
    at: datetime
    by: str


@dataclass(frozen=True)
class CouponLine:
    campaign: str
    #: the code is a bearer secret: only its first group is shown
    code_hint: str
    issued_at: datetime
    issued_by: str
    expires_at: datetime
    redeemed_at: datetime | None
    status: str


@dataclass(frozen=True)
class OrderLine:
    order_id: str
    amount_minor: int
    currency: str | None
    ordered_at: datetime
    via: str


@dataclass(frozen=True)
class StintLine:
    chat_id: int
    community: str
    joined_at: datetime
    left_at: datetime | None
    via_request: bool


@dataclass(frozen=True)
class MemberCard:
    user_id: int
    name: str
    username: str | None
    language: str | None
    source: str | None
    first_seen: datetime
    started: datetime | None
    last_seen: datetime | None
    reachable: bool
    erased: bool
    stage: str | None
    stage_since: datetime | None
    messages_7d: int
    messages_30d: int
    tags: list[TagLine]
    events: list[TagEventLine]
    coupons: list[CouponLine]
    orders: list[OrderLine]
    stints: list[StintLine]
    #: the tags an operator may put on or take off (``/tag``'s)
    editable_tags: list[str]


@dataclass(frozen=True)
class TagEdit:
    """What came of a tag edit: ``outcome`` is ``/tag``'s answer (tag_done, tag_unknown,
    tag_no_member)."""

    outcome: str
    changed: bool


class MemberCards:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, tags: TagAdminService
    ) -> None:
        self._session = session
        self._config = config
        self._tag_admin = tags
        self._tags = TagRepository(session)

    async def card(self, user_id: int, now: datetime) -> MemberCard | None:
        member = await self._session.get(Member, user_id)
        if member is None:
            return None
        stage = await self._session.get(MemberStage, user_id)
        coupons = await CouponRepository(self._session).of_member(user_id, MOST_COUPONS)
        orders = (
            await self._session.execute(
                select(Order)
                .where(Order.user_id == user_id)
                .order_by(Order.ordered_at.desc())
                .limit(MOST_ORDERS)
            )
        ).scalars()
        stints = (
            await self._session.execute(
                select(Membership)
                .where(Membership.user_id == user_id)
                .order_by(Membership.joined_at.desc())
                .limit(MOST_STINTS)
            )
        ).scalars()
        titles = {c.chat_id: c.title for c in self._config.communities}
        return MemberCard(
            user_id=user_id,
            name=member.first_name,
            username=member.username,
            language=member.language_code,
            source=member.source,
            first_seen=member.first_seen_at,
            started=member.started_at,
            last_seen=member.last_seen_at,
            reachable=member.reachable,
            erased=member.erased_at is not None,
            stage=stage.stage if stage else None,
            stage_since=stage.since if stage else None,
            messages_7d=await self._messages(user_id, 7, now),
            messages_30d=await self._messages(user_id, 30, now),
            tags=[TagLine(tag, at, by) for tag, at, by in await self._tags.of(user_id)],
            events=[
                TagEventLine(e.tag, e.action, e.at, e.by)
                for e in await self._tags.history(user_id, MOST_EVENTS)
            ],
            coupons=[
                CouponLine(
                    c.campaign,
                    c.code[:5] + "…",
                    c.issued_at,
                    c.issued_by,
                    c.expires_at,
                    c.redeemed_at,
                    str(status_of(c, self._config, now)),
                )
                for c in coupons
            ],
            orders=[
                OrderLine(o.order_id, o.amount_minor, o.currency, o.ordered_at, o.via)
                for o in orders
            ],
            stints=[
                StintLine(
                    s.chat_id,
                    titles.get(s.chat_id, str(s.chat_id)),
                    s.joined_at,
                    s.left_at,
                    s.via_join_request,
                )
                for s in stints
            ],
            editable_tags=self._tag_admin.known_tags(),
        )

    async def edit_tag(
        self, user_id: int, action: str, tag: str, operator_id: int, now: datetime
    ) -> TagEdit:
        """``action`` (add or remove) ``tag`` on the member, as ``/tag`` does it (history by
        ``op:<operator id>``)."""
        if action not in ("add", "remove"):
            return TagEdit("tag_usage", False)
        template, context = await self._tag_admin.tag(
            str(user_id), action, tag.strip(), operator_id, now
        )
        return TagEdit(template, bool(context.get("changed", False)))

    async def _messages(self, user_id: int, days: int, now: datetime) -> int:
        today = now.astimezone(self._config.tz).date()
        return await messages_within(self._session, user_id, days, today)
