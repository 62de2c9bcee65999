"""Cleanups and the members each one removes (``cleanups``, ``cleanup_targets``); who in a
community is silent (no message there since a day, and joined before it)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import UtcDateTime
from bot.db.models import ActivityDaily, Member, Membership
from bot.db.models.cleanup import Cleanup, CleanupStatus, CleanupTarget, TargetStatus
from bot.db.repositories.lifecycle import has_tag


def in_community(chat_id: int, joined_by: datetime | None = None) -> Any:
    """``members.user_id`` has an open stint in ``chat_id`` (begun by ``joined_by``)."""
    stint = exists().where(
        Membership.user_id == Member.user_id,
        Membership.chat_id == chat_id,
        Membership.left_at.is_(None),
    )
    if joined_by is not None:
        stint = stint.where(Membership.joined_at <= literal(joined_by, UtcDateTime()))
    return stint


def silent_in(chat_id: int, since: datetime, since_day: date) -> Select[Any]:
    """``SELECT members.user_id`` of the members of ``chat_id`` who joined by ``since`` and have
    posted nothing there on ``since_day`` or after (never spoken counts as silent)."""
    spoke = exists().where(
        ActivityDaily.chat_id == chat_id,
        ActivityDaily.user_id == Member.user_id,
        ActivityDaily.day >= since_day,
    )
    return select(Member.user_id).where(in_community(chat_id, since), ~spoke)


class CleanupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, cleanup: Cleanup, members: Select[Any], spared: Collection[int]) -> int:
        """Stores the draft and its members (``members`` less ``spared`` and the team);
        returns how many."""
        self._session.add(cleanup)
        await self._session.flush()
        chosen = members.where(~has_tag("team"))
        if spared:
            chosen = chosen.where(Member.user_id.not_in(list(spared)))
        subquery = chosen.subquery()
        await self._session.execute(
            insert(CleanupTarget).from_select(
                ["cleanup_id", "user_id", "status"],
                select(literal(cleanup.id), subquery.c.user_id, literal(str(TargetStatus.PENDING))),
            )
        )
        cleanup.total = await self.count(cleanup.id)
        return cleanup.total

    async def count(self, cleanup_id: int, *statuses: str) -> int:
        query = select(func.count()).where(CleanupTarget.cleanup_id == cleanup_id)
        if statuses:
            query = query.where(CleanupTarget.status.in_(statuses))
        return int((await self._session.execute(query)).scalar_one())

    async def names(self, cleanup_id: int, limit: int) -> list[str]:
        """Some of its members' first names (the preview)."""
        result = await self._session.execute(
            select(Member.first_name, Member.user_id)
            .join(CleanupTarget, CleanupTarget.user_id == Member.user_id)
            .where(CleanupTarget.cleanup_id == cleanup_id)
            .order_by(Member.user_id)
            .limit(limit)
        )
        return [name or str(user_id) for name, user_id in result.all()]

    async def targets(self, cleanup_id: int) -> Sequence[tuple[int, str, str | None, bool]]:
        """``(user id, first name, language, reachable)`` of each member, by id."""
        result = await self._session.execute(
            select(
                Member.user_id,
                Member.first_name,
                Member.language_code,
                Member.dm_allowed & Member.unreachable_at.is_(None),
            )
            .join(CleanupTarget, CleanupTarget.user_id == Member.user_id)
            .where(CleanupTarget.cleanup_id == cleanup_id)
            .order_by(Member.user_id)
        )
        return [(int(u), n or "", lang, bool(r)) for u, n, lang, r in result.all()]

    async def keep_only(self, cleanup_id: int, still: Select[Any]) -> int:
        """Forgets the members no longer in ``still`` (they spoke, left or changed segment
        since the preview); returns how many are left."""
        await self._session.execute(
            delete(CleanupTarget).where(
                CleanupTarget.cleanup_id == cleanup_id,
                CleanupTarget.user_id.not_in(still.scalar_subquery()),
            )
        )
        return await self.count(cleanup_id)

    async def lock(self, cleanup_id: int) -> Cleanup | None:
        """The cleanup, its row locked until the transaction ends (two presses at once are
        taken one after the other)."""
        result = await self._session.execute(
            select(Cleanup)
            .where(Cleanup.id == cleanup_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def drop_drafts(self, operator_id: int) -> None:
        """An operator's earlier previews no longer count (their buttons do nothing)."""
        await self._session.execute(
            update(Cleanup)
            .where(Cleanup.operator_id == operator_id, Cleanup.status == CleanupStatus.DRAFT)
            .values(status=CleanupStatus.DROPPED)
        )

    async def move(
        self, cleanup_id: int, user_id: int, before: str, after: str, error: str | None = None
    ) -> bool:
        """A member's removal moved on from ``before`` (``False``: it was not there)."""
        result = await self._session.execute(
            update(CleanupTarget)
            .where(
                CleanupTarget.cleanup_id == cleanup_id,
                CleanupTarget.user_id == user_id,
                CleanupTarget.status == before,
            )
            .values(status=after, error=error)
        )
        return bool(getattr(result, "rowcount", 0))
