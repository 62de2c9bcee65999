"""A small world for the dashboard's read models and pages: members from three sources at
known steps of the funnel, tags, coupons, orders, a broadcast, audit entries, tickets and
moderation actions. Every figure the tests expect is counted from ``WORLD`` here, not typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig, parse_config
from bot.db.models import AuditEntry, Coupon, Member, Membership, ModAction, Order
from bot.db.models.broadcast import Broadcast, BroadcastRecipient, BroadcastStatus
from bot.db.models.desk import ANSWERED, OPEN, DeskTicket
from bot.db.models.tags import MemberStage
from bot.db.repositories import TagRepository
from tests.conftest import COMMUNITY, CONFIG_YAML

SCHEDULES_YAML = """
tags:
  manual: [vip, wholesale]
schedules:
  - id: morning_briefing
    cron: "0 8 * * *"
    template: morning_briefing
  - id: evening_qa
    cron: "0 12 * * *"
    template: evening_qa
    starts_at: "20:00"
  - id: weekly_tip
    cron: "30 9 * * 1"
    template: guide
"""


def world_config() -> CommunityConfig:
    return parse_config(CONFIG_YAML + SCHEDULES_YAML, "tests/dashboard_world.py")


@dataclass(frozen=True)
class Someone:
    """One member of the world: arrived ``days_ago``, last spoke ``spoke_after`` days after
    arriving (``None``: never), and how far down the funnel they went."""

    user_id: int
    name: str
    username: str | None
    source: str | None
    days_ago: int
    spoke_after: int | None
    started: bool
    gifted: bool
    redeemed: bool
    ordered: bool
    stage: str
    tags: tuple[str, ...] = ()


WORLD = (
    Someone(1, "Ann", "ann", "src_ad", 40, 35, True, True, True, True, "active", ("vip",)),
    Someone(2, "Bob", "bobby", "src_ad", 35, 8, True, True, True, False, "silent"),
    Someone(3, "Cai", None, "src_ad", 20, 10, True, True, False, False, "silent"),
    Someone(4, "Dan", "dan", "src_ad", 3, 1, True, False, False, False, "new"),
    Someone(5, "李雷", "lilei", "src_kol", 31, 31, True, True, False, True, "active", ("vip",)),
    Someone(6, "韩梅梅", None, "src_kol", 9, None, False, False, False, False, "new"),
    Someone(7, "Eve", "eve", None, 50, 2, False, False, False, False, "churned"),
    Someone(8, "Fay", "fay", None, 2, 0, True, True, False, False, "new", ("tier:potential",)),
)


async def build_world(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with sessions() as session, session.begin():
        for p in WORLD:
            joined = now - timedelta(days=p.days_ago, hours=1)
            session.add(
                Member(
                    user_id=p.user_id,
                    first_name=p.name,
                    username=p.username,
                    source=p.source,
                    first_seen_at=joined,
                    started_at=joined if p.started else None,
                    dm_allowed=p.started,
                    last_seen_at=None
                    if p.spoke_after is None
                    else joined + timedelta(days=p.spoke_after, minutes=5),
                    gift_sent_at=joined if p.gifted else None,
                )
            )
        await session.flush()
        for p in WORLD:
            joined = now - timedelta(days=p.days_ago, hours=1)
            session.add(
                Membership(chat_id=COMMUNITY, user_id=p.user_id, joined_at=joined, left_at=None)
            )
            session.add(MemberStage(user_id=p.user_id, stage=p.stage, since=joined))
            for tag in p.tags:
                await TagRepository(session).add(p.user_id, tag, "op:1001", joined)
            if p.gifted:
                session.add(
                    Coupon(
                        code=f"NEWCOMER{p.user_id:07d}",
                        campaign="newcomer",
                        user_id=p.user_id,
                        issued_by="welcome",
                        issued_at=joined,
                        expires_at=joined + timedelta(days=7),
                        redeemed_at=joined + timedelta(days=1) if p.redeemed else None,
                        redeemed_via="operator" if p.redeemed else None,
                    )
                )
            if p.ordered:
                session.add(
                    Order(
                        order_id=f"o-{p.user_id}",
                        user_id=p.user_id,
                        amount_minor=12_300,
                        currency="CNY",
                        ordered_at=joined + timedelta(days=2),
                        received_at=joined + timedelta(days=2),
                        via="api",
                    )
                )
        session.add(
            Coupon(
                code="HOOKCODE0000001",
                campaign="newcomer",
                user_id=7,
                issued_by="hook",
                issued_at=now - timedelta(days=3),
                expires_at=now + timedelta(days=4),
            )
        )
        await _records(session, now)


async def _records(session: AsyncSession, now: datetime) -> None:
    broadcast = Broadcast(
        segment="all",
        status=BroadcastStatus.DONE,
        created_by=1001,
        chat_id=1001,
        chat_kind="private",
        locale="en",
        template="guide",
        ab=True,
        audience=4,
        created_at=now - timedelta(days=2),
        started_at=now - timedelta(days=2),
        finished_at=now - timedelta(days=2) + timedelta(minutes=3),
        report_due_at=now - timedelta(days=1),
    )
    session.add(broadcast)
    await session.flush()
    for user_id, variant, status in ((1, "a", "sent"), (2, "a", "blocked"), (3, "b", "sent")):
        session.add(
            BroadcastRecipient(
                broadcast_id=broadcast.id,
                user_id=user_id,
                variant=variant,
                status=status,
                settled_at=now - timedelta(days=2),
            )
        )
    for n, command in enumerate(("kpi", "tag", "sop", "audit")):
        session.add(
            AuditEntry(
                update_id=900 + n,
                at=now - timedelta(hours=4 - n),
                user_id=1001,
                user_name="Olga (@olga)",
                chat_id=1001,
                chat_kind="private",
                command=command,
                args="7d" if command == "kpi" else "",
                result="ok",
            )
        )
    session.add_all(
        [
            DeskTicket(
                user_id=1,
                status=OPEN,
                opened_at=now - timedelta(minutes=30),
                waiting_since=now - timedelta(minutes=30),
                deadline=now - timedelta(minutes=25),
                last_member_at=now - timedelta(minutes=30),
            ),
            DeskTicket(
                user_id=5,
                status=ANSWERED,
                opened_at=now - timedelta(hours=2),
                last_member_at=now - timedelta(hours=2),
                claimed_by=1001,
            ),
        ]
    )
    session.add_all(
        [
            ModAction(chat_id=COMMUNITY, user_id=7, action="delete", rule="banned_word", at=now),
            ModAction(
                chat_id=COMMUNITY,
                user_id=7,
                action="mute",
                rule="flood",
                by_user_id=1001,
                at=now - timedelta(minutes=1),
                until=now + timedelta(hours=1),
            ),
        ]
    )
