"""Members for the dashboard: a search (the beginning of a name or @username, or an id) with
filters by tag, lifecycle stage, value tier and source, a page at a time; the member card
lives in ``member_card.py``.

The filters are the segments' own conditions (``has_tag``, ``in_stage``, the ``tier:`` tags
the tier pass writes), so a filter and the segment of the same name select the same members.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.config import CommunityConfig
from bot.config.tags import LIFECYCLE_STAGES, TIERS
from bot.db.models import Member
from bot.db.models.tags import MemberStage
from bot.db.repositories.lifecycle import has_tag
from bot.ids import parse_user_id
from bot.services.members.segments import in_stage

PER_PAGE = 25
MOST_PAGES = 400
#: the page counts the members a filter selects up to this many
COUNT_MOST = 1000
#: longest search text looked at
MOST_QUERY = 64


@dataclass(frozen=True)
class MemberFilter:
    """What the operator typed and picked; empty strings mean "any"."""

    query: str = ""
    tag: str = ""
    stage: str = ""
    tier: str = ""
    source: str = ""

    def cleaned(self) -> MemberFilter:
        """Unknown stages and tiers dropped, text trimmed and shortened."""
        return replace(
            self,
            query=self.query.strip()[:MOST_QUERY],
            tag=self.tag.strip()[:64],
            stage=self.stage if self.stage in LIFECYCLE_STAGES else "",
            tier=self.tier if self.tier in TIERS else "",
            source=self.source.strip()[:64],
        )


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    name: str
    username: str | None
    source: str | None
    stage: str | None
    first_seen: datetime
    last_seen: datetime | None
    reachable: bool


@dataclass(frozen=True)
class MemberPage:
    filter: MemberFilter
    rows: list[MemberRow]
    page: int
    per_page: int
    has_more: bool


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starts_with(expr: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """``expr`` begins with ``prefix``: a range (what an index on ``expr`` serves, on SQLite
    and PostgreSQL alike) and LIKE (exact whatever the collation)."""
    like = expr.like(_like(prefix) + "%", escape="\\")
    if ord(prefix[-1]) >= 0x10FFFF:
        return and_(expr >= prefix, like)
    return and_(expr >= prefix, expr < prefix[:-1] + chr(ord(prefix[-1]) + 1), like)


def search_condition(query: str) -> ColumnElement[bool] | None:
    """``12345`` → that id; ``@name`` → usernames starting so; other text → names or
    usernames starting with it (case-insensitive); ``None`` for no text."""
    if not query:
        return None
    user_id = parse_user_id(query)
    if user_id is not None:
        return Member.user_id == user_id
    text = query.lower()
    if text.startswith("@"):
        return starts_with(func.lower(Member.username), text[1:]) if len(text) > 1 else None
    return or_(
        starts_with(func.lower(Member.first_name), text),
        starts_with(func.lower(Member.username), text),
    )


class MemberSearch:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    def conditions(self, wanted: MemberFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        found = search_condition(wanted.query)
        if found is not None:
            conditions.append(found)
        if wanted.tag:
            conditions.append(has_tag(wanted.tag))
        if wanted.tier:
            conditions.append(has_tag(f"tier:{wanted.tier}"))
        if wanted.stage:
            conditions.append(in_stage(wanted.stage))
        if wanted.source:
            conditions.append(Member.source == wanted.source)
        return conditions

    def _select(self, wanted: MemberFilter) -> Select[Member, str]:
        shown = aliased(MemberStage)  # the filter's EXISTS correlates the table itself
        return (
            select(Member, shown.stage)
            .outerjoin(shown, shown.user_id == Member.user_id)
            .where(*self.conditions(wanted))
        )

    async def page(self, wanted: MemberFilter, page: int = 1) -> MemberPage:
        """Newest first; ``PER_PAGE`` a page (one more is read to know whether more follow)."""
        wanted = wanted.cleaned()
        page = max(1, min(page, MOST_PAGES))
        result = await self._session.execute(
            self._select(wanted)
            .order_by(Member.first_seen_at.desc(), Member.user_id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
        rows = [
            MemberRow(
                user_id=m.user_id,
                name=m.first_name,
                username=m.username,
                source=m.source,
                stage=stage,
                first_seen=m.first_seen_at,
                last_seen=m.last_seen_at,
                reachable=m.reachable,
            )
            for m, stage in result.all()
        ]
        return MemberPage(wanted, rows[:PER_PAGE], page, PER_PAGE, len(rows) > PER_PAGE)

    async def count(self, wanted: MemberFilter, most: int = COUNT_MOST) -> int:
        """How many members the filter selects, counted up to ``most`` (the page says "1000+"
        then: an exact count of a wide filter reads every member; ``/segment`` sizes a
        segment exactly)."""
        query = select(Member.user_id).where(*self.conditions(wanted.cleaned())).limit(most)
        result = await self._session.execute(select(func.count()).select_from(query.subquery()))
        return int(result.scalar_one())
