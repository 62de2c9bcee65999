"""``/member @username|ID``: one member's profile for the team, on one screen."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import ActivityDaily, Coupon, Member, Membership
from bot.db.models.tags import MemberStage
from bot.db.repositories import TagRepository
from bot.db.repositories.privacy import PrivacyRepository
from bot.ids import parse_user_id
from bot.services.dto import Origin, Person
from bot.services.privacy_keys import digest
from bot.services.team import TeamService

USAGE = "/member @username|ID"
#: at most this many of each list on the screen (the rest counted)
MOST_TAGS, MOST_EVENTS, MOST_COUPONS, MOST_STINTS = 20, 5, 10, 5


def parse_target(args: str | None) -> tuple[str, int | str] | None:
    """``@name`` → ``("username", "name")``, ``12345`` → ``("id", 12345)``; else ``None``."""
    words = (args or "").split()
    if len(words) != 1:
        return None
    word = words[0]
    if word.startswith("@") and 1 < len(word) <= 65:
        return "username", word[1:].lower()
    user_id = parse_user_id(word)
    return None if user_id is None else ("id", user_id)


async def messages_within(session: AsyncSession, user_id: int, days: int, today: date) -> int:
    """The member's community messages on the last ``days`` local days, today included."""
    since = today - timedelta(days=days - 1)
    result = await session.execute(
        select(func.coalesce(func.sum(ActivityDaily.messages), 0)).where(
            ActivityDaily.user_id == user_id, ActivityDaily.day >= since
        )
    )
    return int(result.scalar_one())


class MemberViewService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, privacy_key: bytes = b""
    ) -> None:
        self._session = session
        self._config = config
        self._privacy_key = privacy_key

    async def answer(
        self, team: TeamService, origin: Origin, person: Person, args: str | None, now: datetime
    ) -> None:
        target = parse_target(args)
        if target is None:
            await team.answer_usage(origin, person, USAGE, now)
            return
        member = await self._find(target)
        if member is None and target[0] == "id" and await self._suppressed(int(target[1])):
            # erased: their rows carry a pseudonym now; the suppression list says who it was
            await team.reply(origin, person, "member_erased", {"id": target[1]}, now)
            return
        if member is None:
            shown = f"@{target[1]}" if target[0] == "username" else str(target[1])
            await team.reply(origin, person, "member_not_found", {"who": shown}, now)
            return
        await team.reply(origin, person, "member", await self.profile(member, now), now)

    async def _suppressed(self, user_id: int) -> bool:
        return await PrivacyRepository(self._session).suppressed(digest(self._privacy_key, user_id))

    async def _find(self, target: tuple[str, int | str]) -> Member | None:
        kind, value = target
        if kind == "id":
            return await self._session.get(Member, value)
        result = await self._session.execute(
            select(Member)
            .where(func.lower(Member.username) == value)
            .order_by(Member.last_seen_at.desc().nulls_last())
            .limit(1)
        )
        return result.scalars().first()

    async def profile(self, member: Member, now: datetime) -> dict[str, Any]:
        """Everything the template shows, as plain values (times local, lists capped)."""
        uid = member.user_id
        stage = await self._session.get(MemberStage, uid)
        tags = await TagRepository(self._session).of(uid)
        events = await TagRepository(self._session).history(uid, limit=MOST_EVENTS)
        coupons = (
            (
                await self._session.execute(
                    select(Coupon)
                    .where(Coupon.user_id == uid)
                    .order_by(Coupon.issued_at.desc())
                    .limit(MOST_COUPONS + 1)
                )
            )
            .scalars()
            .all()
        )
        coupon_total = (
            await self._session.execute(
                select(func.count()).select_from(Coupon).where(Coupon.user_id == uid)
            )
        ).scalar_one()
        stints = (
            (
                await self._session.execute(
                    select(Membership)
                    .where(Membership.user_id == uid)
                    .order_by(Membership.joined_at.desc())
                    .limit(MOST_STINTS + 1)
                )
            )
            .scalars()
            .all()
        )
        today = now.astimezone(self._config.tz).date()
        activity = {
            days: await messages_within(self._session, uid, days, today) for days in (7, 30)
        }
        last_day = (
            await self._session.execute(
                select(func.max(ActivityDaily.day)).where(ActivityDaily.user_id == uid)
            )
        ).scalar_one_or_none()
        return {
            "id": uid,
            "erased": member.erased_at is not None,
            "erased_at": self._when(member.erased_at),
            "name": member.first_name,
            "username": member.username,
            "language": member.language_code,
            "source": member.source,
            "source_kind": member.source_kind,
            "first_seen": self._when(member.first_seen_at),
            "started": self._when(member.started_at),
            "last_seen": self._when(member.last_seen_at),
            "dm_allowed": member.dm_allowed,
            "blocked_since": self._when(member.unreachable_at),
            "stage": stage.stage if stage else None,
            "stage_since": self._when(stage.since) if stage else None,
            "stints": [self._stint(s) for s in stints[:MOST_STINTS]],
            "more_stints": max(0, len(stints) - MOST_STINTS),
            "tags": [
                {"tag": tag, "at": self._when(at), "by": by} for tag, at, by in tags[:MOST_TAGS]
            ],
            "more_tags": max(0, len(tags) - MOST_TAGS),
            "events": [
                {"tag": e.tag, "action": e.action, "at": self._when(e.at), "by": e.by}
                for e in events
            ],
            "coupons": [self._coupon(c, now) for c in coupons[:MOST_COUPONS]],
            "more_coupons": max(0, int(coupon_total) - MOST_COUPONS),
            "messages_7d": activity[7],
            "messages_30d": activity[30],
            "last_active": last_day.isoformat() if last_day else None,
        }

    def _when(self, at: datetime | None) -> str | None:
        return at.astimezone(self._config.tz).strftime("%Y-%m-%d %H:%M") if at else None

    def _stint(self, stint: Membership) -> dict[str, Any]:
        title = next(
            (c.title for c in self._config.communities if c.chat_id == stint.chat_id),
            str(stint.chat_id),
        )
        return {
            "community": title,
            "joined": self._when(stint.joined_at),
            "left": self._when(stint.left_at),
            "via_request": stint.via_join_request,
            "link": stint.invite_link,
        }

    def _coupon(self, coupon: Coupon, now: datetime) -> dict[str, Any]:
        if coupon.redeemed_at is not None:
            status, at = "redeemed", coupon.redeemed_at
        elif coupon.expires_at <= now:
            status, at = "expired", coupon.expires_at
        else:
            status, at = "valid", coupon.expires_at
        # the code itself is a bearer secret: only its first group is shown
        return {
            "campaign": coupon.campaign,
            "code_hint": coupon.code[:5] + "…",
            "issued": self._when(coupon.issued_at),
            "issued_by": coupon.issued_by,
            "status": status,
            "at": self._when(at),
        }
