"""What the team sees of a member (the card) and the desk's buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Coupon, Member, Order
from bot.db.models.desk import DeskTicket
from bot.db.models.tags import MemberStage
from bot.db.repositories import TagRepository

#: callback data: ``dk:<verb>:<ticket>[:<n>]`` (64 bytes at most; the ticket is checked)
CLAIM, HUMAN, RATE = "dk:c:", "dk:h:", "dk:r:"
#: tags shown on a card (the rest counted)
CARD_TAGS = 8
#: how much of a name goes on a button or a topic name
NAME_CUT = 40


def short_name(member: Member | None, user_id: int) -> str:
    if member is None:
        return str(user_id)
    name = member.first_name.strip() or str(user_id)
    if member.username:
        name += f" @{member.username}"
    return name[:NAME_CUT]


def claim_button(ticket: DeskTicket, member: Member | None, label: str) -> dict[str, Any]:
    """On every relay: who wrote (name, @username), and a press claims the ticket."""
    text = f"{label} {short_name(member, ticket.user_id)} · #{ticket.id}"
    return {"inline_keyboard": [[{"text": text[:64], "callback_data": f"{CLAIM}{ticket.id}"}]]}


def human_button(ticket: DeskTicket, label: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": label, "callback_data": f"{HUMAN}{ticket.id}"}]]}


def rating_buttons(ticket: DeskTicket) -> dict[str, Any]:
    row = [{"text": "⭐" * n, "callback_data": f"{RATE}{ticket.id}:{n}"} for n in range(1, 6)]
    return {"inline_keyboard": [row[:3], row[3:]]}


async def card(
    session: AsyncSession, ticket: DeskTicket, member: Member | None, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """The member's card: who, stage, tags, tier, source, open coupons, last order."""
    uid = ticket.user_id
    stage = await session.get(MemberStage, uid)
    tags = [tag for tag, _, _ in await TagRepository(session).of(uid)]
    tiers = [tag.removeprefix("tier:") for tag in tags if tag.startswith("tier:")]
    others = [tag for tag in tags if not tag.startswith("tier:")]
    coupons = (
        (
            await session.execute(
                select(Coupon)
                .where(Coupon.user_id == uid, Coupon.redeemed_at.is_(None), Coupon.expires_at > now)
                .order_by(Coupon.expires_at)
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    order = (
        (
            await session.execute(
                select(Order).where(Order.user_id == uid).order_by(Order.ordered_at.desc()).limit(1)
            )
        )
        .scalars()
        .first()
    )
    return {
        "ticket": ticket.id,
        "id": uid,
        "name": member.first_name if member else "",
        "username": member.username if member else None,
        "link": f"tg://user?id={uid}",
        "stage": stage.stage if stage else None,
        "tier": tiers[0] if tiers else None,
        "tags": others[:CARD_TAGS],
        "more_tags": max(0, len(others) - CARD_TAGS),
        "source": member.source if member else None,
        "coupons": [
            {
                "campaign": c.campaign,
                "expires": c.expires_at.astimezone(tz).strftime("%Y-%m-%d"),
            }
            for c in coupons
        ],
        "last_order": (
            {
                "amount": f"{order.amount_minor / 100:.2f}",
                "currency": order.currency or "",
                "at": order.ordered_at.astimezone(tz).strftime("%Y-%m-%d"),
            }
            if order
            else None
        ),
        "reopened": ticket.reopened,
        "role": ticket.role,
    }
