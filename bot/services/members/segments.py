"""Segments: named selections of members (built-ins and the config's ``segments:``).

The interface broadcasts, SOP targets and ``/segment`` rely on:

- ``SegmentService.names()`` — every segment name an operator may use;
- ``await SegmentService.count(name, now)`` — its size;
- ``SegmentService.user_ids(name, now)`` — a SQL ``SELECT user_id`` of its members, for streaming
  or inserting-from-select (never loads the whole segment in Python).

Built in: ``all``, ``reachable`` (may be DMed: started the bot or asked to join, and has not
blocked it), ``new`` (first seen within ``tags.lifecycle.new``, whatever they did since), and the
lifecycle stages ``active``, ``silent``, ``churned`` (the stage table kept by
:mod:`bot.services.members.lifecycle`). A config segment ANDs its conditions (see
:class:`bot.config.tags.SegmentConfig`).

An unknown name raises :class:`SegmentError` whose message lists the known ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.tags import BUILT_IN_SEGMENTS, SegmentConfig
from bot.db.models import Member, MemberTag
from bot.db.models.tags import MemberStage
from bot.db.repositories.lifecycle import has_tag
from bot.errors import SopbotError

BUILT_IN = BUILT_IN_SEGMENTS


class SegmentError(SopbotError):
    """An unknown segment name."""


def reachable() -> ColumnElement[bool]:
    return and_(Member.dm_allowed.is_(True), Member.unreachable_at.is_(None))


def in_stage(*stages: str) -> ColumnElement[bool]:
    return exists().where(MemberStage.user_id == Member.user_id, MemberStage.stage.in_(stages))


class SegmentService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    def names(self) -> list[str]:
        return [*BUILT_IN, *self._config.segments]

    def knows(self, name: str) -> bool:
        return name in BUILT_IN or name in self._config.segments

    def user_ids(self, name: str, now: datetime) -> Select[Any]:
        """``SELECT members.user_id`` of the segment ``name`` at ``now``."""
        query = select(Member.user_id)
        match name:
            case "all":
                return query
            case "reachable":
                return query.where(reachable())
            case "new":
                return query.where(Member.first_seen_at > now - self._config.tags.lifecycle.new)
            case "active" | "silent" | "churned":
                return query.where(in_stage(name))
        segment = self._config.segments.get(name)
        if segment is None:
            known = ", ".join(self.names())
            raise SegmentError(f"no segment named {name!r} (known: {known})")
        return query.where(*self._conditions(segment, now))

    async def count(self, name: str, now: datetime) -> int:
        subquery = self.user_ids(name, now).subquery()
        result = await self._session.execute(select(func.count()).select_from(subquery))
        return int(result.scalar_one())

    async def sizes(self, now: datetime) -> list[tuple[str, int]]:
        """Every segment with its size, built-ins first."""
        return [(name, await self.count(name, now)) for name in self.names()]

    def _conditions(self, segment: SegmentConfig, now: datetime) -> list[ColumnElement[bool]]:
        conditions = [has_tag(tag) for tag in segment.tags]
        if segment.any_tags:
            conditions.append(
                exists().where(
                    MemberTag.user_id == Member.user_id, MemberTag.tag.in_(segment.any_tags)
                )
            )
        conditions += [~has_tag(tag) for tag in segment.not_tags]
        if segment.tier:
            conditions.append(
                exists().where(
                    MemberTag.user_id == Member.user_id,
                    MemberTag.tag.in_([f"tier:{tier}" for tier in segment.tier]),
                )
            )
        if segment.lifecycle:
            conditions.append(in_stage(*segment.lifecycle))
        if segment.source:
            conditions.append(Member.source.in_(segment.source))
        if segment.reachable is not None:
            conditions.append(reachable() if segment.reachable else ~reachable())
        if segment.joined_within is not None:
            conditions.append(Member.first_seen_at > now - segment.joined_within)
        return conditions
