"""Members and their community stints. Repositories never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Captcha, Member, Membership
from bot.db.upsert import insert_for


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> Member | None:
        return await self._session.get(Member, user_id)

    async def get_or_create(
        self,
        user_id: int,
        *,
        first_name: str,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> tuple[Member, bool]:
        """The member, refreshed with the profile Telegram just showed; ``True`` when new.

        The row is locked for the rest of the transaction: two updates about one member (a
        chat_member update and its service message) take turns instead of racing.
        """
        stmt = (
            insert_for(self._session, Member)
            .values(
                user_id=user_id,
                first_name=first_name[:128],
                first_seen_at=now,
                dm_allowed=False,
            )
            .on_conflict_do_nothing(index_elements=["user_id"])
            .returning(Member.user_id)
        )
        created = (await self._session.execute(stmt)).first() is not None
        member = (
            await self._session.execute(
                select(Member)
                .where(Member.user_id == user_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if member.erased_at is None:  # an erased member's profile stays blank (issue 15)
            member.first_name = first_name[:128]
            member.username = username[:64] if username else None
            member.language_code = language_code[:16] if language_code else None
        await self._session.flush()
        return member, created

    async def mark_unreachable(self, user_id: int, at: datetime) -> bool:
        """``True`` when the member was reachable until now."""
        result = await self._session.execute(
            update(Member)
            .where(Member.user_id == user_id, Member.unreachable_at.is_(None))
            .values(unreachable_at=at)
            .execution_options(synchronize_session="fetch")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, user_id: int, at: datetime) -> None:
        await self._session.execute(
            update(Member).where(Member.user_id == user_id).values(last_seen_at=at)
        )


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_stint(self, chat_id: int, user_id: int) -> Membership | None:
        result = await self._session.execute(
            select(Membership)
            .where(
                Membership.chat_id == chat_id,
                Membership.user_id == user_id,
                Membership.left_at.is_(None),
            )
            .order_by(Membership.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def last_stint(self, chat_id: int, user_id: int) -> Membership | None:
        """The member's latest stint in ``chat_id`` (open or closed)."""
        result = await self._session.execute(
            select(Membership)
            .where(Membership.chat_id == chat_id, Membership.user_id == user_id)
            .order_by(Membership.joined_at.desc(), Membership.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def add(self, stint: Membership) -> Membership:
        self._session.add(stint)
        await self._session.flush()
        return stint

    async def awaiting_greeting(self, chat_id: int, limit: int) -> Sequence[Membership]:
        """Open stints not yet planned into a group greeting, oldest first."""
        result = await self._session.execute(
            select(Membership)
            .where(
                Membership.chat_id == chat_id,
                Membership.greeting_outbox_id.is_(None),
                Membership.welcomed_at.is_(None),
                Membership.left_at.is_(None),
                # join protection: greeted once the challenge is passed, never before
                ~select(Captcha.id)
                .where(Captcha.stint_id == Membership.id, Captcha.status != "passed")
                .exists(),
            )
            .order_by(Membership.joined_at, Membership.id)
            .limit(limit)
        )
        return result.scalars().all()

    async def assign_greeting(self, stint_ids: Sequence[int], outbox_id: int) -> None:
        await self._session.execute(
            update(Membership)
            .where(Membership.id.in_(stint_ids))
            .values(greeting_outbox_id=outbox_id)
        )

    async def unassign_greeting(self, outbox_id: int) -> None:
        await self._session.execute(
            update(Membership)
            .where(Membership.greeting_outbox_id == outbox_id, Membership.welcomed_at.is_(None))
            .values(greeting_outbox_id=None)
        )

    async def mark_greeted(self, outbox_id: int, at: datetime) -> Sequence[Membership]:
        """Stints whose greeting was just delivered; returns the ones newly marked."""
        result = await self._session.execute(
            select(Membership).where(
                Membership.greeting_outbox_id == outbox_id, Membership.welcomed_at.is_(None)
            )
        )
        stints = result.scalars().all()
        for stint in stints:
            stint.welcomed_at = at
        return stints

    async def joined_between(
        self, chat_id: int, start: datetime, end: datetime
    ) -> Sequence[tuple[datetime, datetime | None, bool]]:
        """(joined_at, welcomed_at, left) of the stints that began in [start, end)."""
        result = await self._session.execute(
            select(Membership.joined_at, Membership.welcomed_at, Membership.left_at).where(
                Membership.chat_id == chat_id,
                Membership.joined_at >= start,
                Membership.joined_at < end,
            )
        )
        return [(row[0], row[1], row[2] is not None) for row in result.all()]
