"""Segments: named selections of members (built-ins and the config's ``segments:``).

The interface broadcasts, SOP targets and ``/segment`` rely on:

- ``SegmentService.names()`` — every segment name an operator may use;
- ``await SegmentService.count(name, now)`` — its size;
- ``SegmentService.user_ids(name, now)`` — a SQL ``SELECT user_id`` of its members, for streaming
  or inserting-from-select (never loads the whole segment in Python).

An unknown name raises :class:`SegmentError` whose message lists the known ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.errors import SopbotError

BUILT_IN = ("all", "reachable", "new", "active", "silent", "churned")
NEW_FOR = timedelta(days=30)
SILENT_AFTER = timedelta(days=7)
CHURNED_AFTER = timedelta(days=90)


class SegmentError(SopbotError):
    """An unknown segment name."""


class SegmentService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    def names(self) -> list[str]:
        return list(BUILT_IN)

    def user_ids(self, name: str, now: datetime) -> Select[Any]:
        """``SELECT members.user_id`` of the segment ``name`` at ``now``."""
        query = select(Member.user_id)
        last = func.coalesce(Member.last_seen_at, Member.first_seen_at)
        match name:
            case "all":
                return query
            case "reachable":
                return query.where(Member.dm_allowed.is_(True), Member.unreachable_at.is_(None))
            case "new":
                return query.where(Member.first_seen_at > now - NEW_FOR)
            case "active":
                return query.where(Member.last_seen_at > now - SILENT_AFTER)
            case "silent":
                return query.where(and_(last <= now - SILENT_AFTER, last > now - CHURNED_AFTER))
            case "churned":
                return query.where(or_(last <= now - CHURNED_AFTER))
        known = ", ".join(self.names())
        raise SegmentError(f"no segment named {name!r} (known: {known})")

    async def count(self, name: str, now: datetime) -> int:
        subquery = self.user_ids(name, now).subquery()
        result = await self._session.execute(select(func.count()).select_from(subquery))
        return int(result.scalar_one())
