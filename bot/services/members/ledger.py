"""The member ledger: who arrived from where, who may be messaged, who is active where."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GLOBAL_CHAT, Member, Membership
from bot.db.repositories import (
    ActivityRepository,
    MemberRepository,
    MembershipRepository,
    RollupRepository,
)
from bot.db.repositories.kpi import KpiRepository
from bot.db.repositories.privacy import PrivacyRepository
from bot.services.dto import Person
from bot.services.privacy_keys import digest
from sop.payload import PayloadKind, StartPayload

log = logging.getLogger(__name__)

#: a service message and a chat_member update for the same join arrive close together
SAME_JOIN = 120


class LedgerService:
    def __init__(self, session: AsyncSession, tz: ZoneInfo, privacy_key: bytes = b"") -> None:
        self._members = MemberRepository(session)
        self._privacy = PrivacyRepository(session)
        self._privacy_key = privacy_key
        self._stints = MembershipRepository(session)
        self._activity = ActivityRepository(session)
        self._rollups = RollupRepository(session)
        self._kpi = KpiRepository(session)
        self._tz = tz

    async def seen(self, person: Person, now: datetime) -> Member:
        """The member as Telegram shows them now; one erased (on the suppression list) who
        shows up again before ``/start`` gets a blank, erased row under their id: nothing of
        their profile is recorded, nothing sent to them (issue 15)."""
        member, created = await self._members.get_or_create(
            person.id,
            first_name=person.first_name,
            username=person.username,
            language_code=person.language_code,
            now=now,
        )
        if created and await self._privacy.suppressed(digest(self._privacy_key, person.id)):
            member.first_name, member.username, member.language_code = "", None, None
            member.erased_at, member.dm_allowed = now, False
        return member

    async def record_start(self, person: Person, payload: StartPayload, now: datetime) -> Member:
        """``/start`` in private: the bot may DM this member from now on."""
        member = await self.seen(person, now)
        member.dm_allowed = True
        member.unreachable_at = None  # they came back (a blocked bot can be started again)
        if member.started_at is None:
            member.started_at = now
        if member.source is None and payload.kind in (PayloadKind.SOURCE, PayloadKind.INVALID):
            member.source, member.source_kind = payload.source, "deeplink"
        return member

    async def record_join_request(
        self, person: Person, invite_link: str | None, now: datetime
    ) -> Member:
        member = await self.seen(person, now)
        member.dm_allowed = True  # a member who blocked the bot stays unreachable, though
        if member.source is None:
            member.source = (invite_link or "join_request")[:64]
            member.source_kind = "invite_link" if invite_link else "join_request"
        return member

    async def record_join(
        self,
        chat_id: int,
        person: Person,
        *,
        invite_link: str | None,
        via_join_request: bool,
        now: datetime,
        at: datetime | None = None,
    ) -> Membership | None:
        """A new stint in ``chat_id`` that began at ``at`` (Telegram's event time: downtime
        shows in the welcome SLA); ``None`` for a report of a join already known (Telegram
        sends a service message and a chat_member update) or older than a leave already seen
        (updates are handled side by side and may finish out of order)."""
        at = at or now
        member = await self.seen(person, now)  # locks the member: reports take turns
        last = await self._stints.last_stint(chat_id, person.id)
        if last is not None and last.left_at is None:
            last.via_join_request = last.via_join_request or via_join_request
            if (
                invite_link
                and last.invite_link is None
                and abs((at - last.joined_at).total_seconds()) < SAME_JOIN
            ):
                last.invite_link = invite_link[:128]
                self._source_from_link(member, invite_link)
            return None
        if last is not None and last.left_at is not None and last.left_at >= at:
            return None
        if invite_link:
            self._source_from_link(member, invite_link)
        stint = await self._stints.add(
            Membership(
                chat_id=chat_id,
                user_id=person.id,
                joined_at=at,
                invite_link=(invite_link or None) and invite_link[:128],
                via_join_request=via_join_request,
            )
        )
        await self._rollups.add(chat_id, self.local_day(at), joins=1)
        await self._kpi.stint_opened(chat_id, self.local_day(at), member.source or "unknown")
        return stint

    async def record_leave(
        self, chat_id: int, person: Person, now: datetime, at: datetime | None = None
    ) -> bool:
        """Closes the member's stint at ``at``; ``False`` for a second report of a leave. A
        leave of someone the bot never saw join (in the group before the bot came, or whose
        join is still being handled) is counted too, and remembered as a closed stint so that
        a late report of the join is not taken for a new one."""
        at = at or now
        await self.seen(person, now)  # locks the member: the reports take turns
        last = await self._stints.last_stint(chat_id, person.id)
        if last is not None and last.left_at is None:
            last.left_at = max(at, last.joined_at)
            await self._kpi.stint_closed(chat_id, self.local_day(last.left_at))
        elif (
            last is not None
            and last.left_at is not None
            and last.left_at >= at - timedelta(seconds=SAME_JOIN)
        ):
            return False
        else:
            await self._stints.add(
                Membership(
                    chat_id=chat_id,
                    user_id=person.id,
                    joined_at=at,
                    left_at=at,
                    via_join_request=False,
                )
            )
        await self._rollups.add(chat_id, self.local_day(at), leaves=1)
        return True

    async def record_message(
        self, chat_id: int, person: Person, now: datetime, at: datetime | None = None
    ) -> datetime | None:
        """Counts a member's message (never its text) on the day it was sent, and their
        last-seen time; returns the last-seen time before this message."""
        at = at or now
        member = await self.seen(person, now)
        before = member.last_seen_at
        member.last_seen_at = max(at, member.last_seen_at) if member.last_seen_at else at
        day = self.local_day(at)
        first_today = await self._activity.bump(chat_id, person.id, day)
        await self._rollups.add(chat_id, day, messages=1, active_members=int(first_today))
        return before

    async def record_reachability(self, person: Person, reachable: bool, now: datetime) -> None:
        """Telegram told us the member blocked the bot, or unblocked it."""
        member = await self.seen(person, now)
        if reachable:
            member.dm_allowed, member.unreachable_at = True, None
        else:
            await self.mark_unreachable(person.id, now)

    async def mark_unreachable(self, user_id: int, now: datetime) -> None:
        """Counted once per member going unreachable, however many ways Telegram says so."""
        if await self._members.mark_unreachable(user_id, now):
            await self._rollups.add(GLOBAL_CHAT, self.local_day(now), dm_blocked=1)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self._tz).date()

    @staticmethod
    def _source_from_link(member: Member, invite_link: str) -> None:
        if member.source is None or member.source_kind == "join_request":
            member.source, member.source_kind = invite_link[:64], "invite_link"
