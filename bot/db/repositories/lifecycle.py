"""Lifecycle stages, behaviour-rule tags and member-wide DMs, as set-based SQL.

Everything that touches every member is one ``INSERT … SELECT`` / ``UPDATE … FROM`` per step:
the database does the work in place and nothing proportional to the member count is held in
Python (100,000 members take a few statements, not 100,000).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import UtcDateTime
from bot.db.models import (
    ActivityDaily,
    Coupon,
    DailyRollup,
    HookHit,
    Member,
    Membership,
    MemberTag,
    OutboxMessage,
    Question,
)
from bot.db.models.outbox import ChatKind, OutboxStatus, Purpose
from bot.db.models.tags import ADDED, REMOVED, DailyPass, MemberStage, TagEvent
from bot.db.upsert import insert_for

LIFECYCLE_PREFIX = "lifecycle:"
RULE_BY = "rule"
_EVENT_COLUMNS = ["user_id", "tag", "action", "at", "by"]


def _rows(result: Any) -> int:
    """Rows an INSERT/UPDATE/DELETE touched (a ``CursorResult``)."""
    return int(result.rowcount or 0)


def _at(value: datetime) -> Any:
    return literal(value, UtcDateTime())


def stage_expression(
    now: datetime, *, new: timedelta, silent: timedelta, churned: timedelta
) -> ColumnElement[str]:
    """The stage a member is in at ``now`` (over ``members``): active (spoke within
    ``silent``), else new (first seen within ``new``), else silent (spoke or arrived within
    ``churned``), else churned."""
    last = func.coalesce(Member.last_seen_at, Member.first_seen_at)
    return case(
        (Member.last_seen_at > _at(now - silent), literal("active", String)),
        (Member.first_seen_at > _at(now - new), literal("new", String)),
        (last > _at(now - churned), literal("silent", String)),
        else_=literal("churned", String),
    )


def has_tag(tag: str) -> ColumnElement[bool]:
    """``members.user_id`` (or whatever ``user_id`` is correlated) carries ``tag``."""
    return exists().where(MemberTag.user_id == Member.user_id, MemberTag.tag == tag)


class LifecycleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- look-ups -------------------------------------------------------------------------------

    async def member(self, user_id: int) -> Member | None:
        return await self._session.get(Member, user_id)

    async def member_by_username(self, username: str) -> Member | None:
        """Usernames are case-insensitive on Telegram; the latest seen holder wins."""
        result = await self._session.execute(
            select(Member)
            .where(func.lower(Member.username) == username.lower())
            .order_by(Member.last_seen_at.desc().nulls_last(), Member.first_seen_at.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def count(self, users: Select[Any]) -> int:
        result = await self._session.execute(select(func.count()).select_from(users.subquery()))
        return int(result.scalar_one())

    # -- per event -----------------------------------------------------------------------------

    async def stage_of(self, user_id: int) -> str | None:
        result = await self._session.execute(
            select(MemberStage.stage).where(MemberStage.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def move(self, user_id: int, old: str | None, new: str, at: datetime, by: str) -> bool:
        """Moves the member from ``old`` (``None``: no stage yet) to ``new``, with history;
        ``False`` when someone else moved them meanwhile (nothing done)."""
        if old is None:
            stmt = (
                insert_for(self._session, MemberStage)
                .values(
                    user_id=user_id,
                    stage=new,
                    since=at,
                )
                .on_conflict_do_nothing(index_elements=["user_id"])
                .returning(MemberStage.user_id)
            )
        else:
            stmt = (
                update(MemberStage)
                .where(
                    MemberStage.user_id == user_id,
                    MemberStage.stage == old,
                )
                .values(stage=new, since=at)
                .returning(MemberStage.user_id)
            )
        if (await self._session.execute(stmt)).first() is None:
            return False
        if old is not None:
            self._session.add(
                TagEvent(user_id=user_id, tag=LIFECYCLE_PREFIX + old, action=REMOVED, at=at, by=by)
            )
        self._session.add(
            TagEvent(user_id=user_id, tag=LIFECYCLE_PREFIX + new, action=ADDED, at=at, by=by)
        )
        return True

    # -- the daily pass ------------------------------------------------------------------------

    async def claim(self, name: str, day: date, now: datetime) -> bool:
        """This transaction does ``name`` for ``day``; ``False`` when it is done or being done
        (the other instance's row blocks here until it commits or rolls back)."""
        stmt = (
            insert_for(self._session, DailyPass)
            .values(
                name=name,
                day=day,
                at=now,
                moved=0,
                winback=0,
            )
            .on_conflict_do_nothing(index_elements=["name", "day"])
            .returning(DailyPass.day)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def record(self, name: str, day: date, **counts: int) -> None:
        await self._session.execute(
            update(DailyPass)
            .where(DailyPass.name == name, DailyPass.day == day)
            .values({key: getattr(DailyPass, key) + value for key, value in counts.items()})
        )

    async def apply_stages(
        self, now: datetime, *, new: timedelta, silent: timedelta, churned: timedelta
    ) -> int:
        """Every member into the stage ``now`` says, with history; returns how many moved."""
        desired = stage_expression(now, new=new, silent=silent, churned=churned)
        # an active stage's ``since`` is one of the member's messages, so one within ``silent``
        # means active still: the guard changes nothing the stages say, but keeps a message
        # committed while this statement runs (PostgreSQL re-checks only this table's row,
        # not the member's) from being overwritten
        fresh = and_(MemberStage.stage == "active", MemberStage.since > _at(now - silent))
        joined = and_(MemberStage.user_id == Member.user_id, MemberStage.stage != desired, ~fresh)
        at, by = _at(now), literal("lifecycle", String)
        prefix = literal(LIFECYCLE_PREFIX, String)
        events = insert_for(self._session, TagEvent)
        await self._session.execute(
            events.from_select(
                _EVENT_COLUMNS,
                select(
                    MemberStage.user_id,
                    prefix + MemberStage.stage,
                    literal(REMOVED, String),
                    at,
                    by,
                ).where(joined),
            )
        )
        await self._session.execute(
            events.from_select(
                _EVENT_COLUMNS,
                select(
                    MemberStage.user_id,
                    prefix + desired,
                    literal(ADDED, String),
                    at,
                    by,
                ).where(joined),
            )
        )
        # an active member is active since a message of theirs (never later than their last)
        since = case((desired == literal("active", String), Member.last_seen_at), else_=at)
        moved = _rows(
            await self._session.execute(
                update(MemberStage)
                .where(joined)
                .values(stage=desired, since=since)
                .execution_options(synchronize_session=False)
            )
        )
        missing = ~exists().where(MemberStage.user_id == Member.user_id)
        await self._session.execute(
            events.from_select(
                _EVENT_COLUMNS,
                select(Member.user_id, prefix + desired, literal(ADDED, String), at, by).where(
                    missing
                ),
            )
        )
        created = _rows(
            await self._session.execute(
                insert_for(self._session, MemberStage).from_select(
                    ["user_id", "stage", "since"],
                    select(Member.user_id, desired, since).where(missing),
                )
            )
        )
        return moved + created

    async def apply_rule(
        self,
        tag: str,
        metric: str,
        at_least: int,
        since: datetime | None,
        since_day: date | None,
        now: datetime,
    ) -> tuple[int, int]:
        """``tag`` on exactly the members who reach ``at_least`` of ``metric`` (since then)
        — among those this rule tagged; a tag put there by hand or by a hook stays. Returns
        (added, removed)."""
        qualifying = _qualifying(metric, at_least, since, since_day)
        at, by = _at(now), literal(RULE_BY, String)
        lacking = and_(Member.user_id.in_(qualifying), ~has_tag(tag))
        events = insert_for(self._session, TagEvent)
        await self._session.execute(
            events.from_select(
                _EVENT_COLUMNS,
                select(
                    Member.user_id,
                    literal(tag, String),
                    literal(ADDED, String),
                    at,
                    by,
                ).where(lacking),
            )
        )
        added = _rows(
            await self._session.execute(
                insert_for(self._session, MemberTag)
                .from_select(
                    ["user_id", "tag", "added_at", "added_by"],
                    select(Member.user_id, literal(tag, String), at, by).where(lacking),
                )
                .on_conflict_do_nothing(index_elements=["user_id", "tag"])
            )
        )
        stale = and_(
            MemberTag.tag == tag,
            MemberTag.added_by == RULE_BY,
            MemberTag.user_id.not_in(qualifying),
        )
        await self._session.execute(
            events.from_select(
                _EVENT_COLUMNS,
                select(
                    MemberTag.user_id,
                    literal(tag, String),
                    literal(REMOVED, String),
                    at,
                    by,
                ).where(stale),
            )
        )
        removed = _rows(
            await self._session.execute(
                delete(MemberTag).where(stale).execution_options(synchronize_session=False)
            )
        )
        return added, removed

    async def snapshot_silent(self, chat_ids: Iterable[int], day: date) -> dict[int, int]:
        """Members of each community (an open stint there) in the silent stage, written to
        the day's rollup as ``silent_members``."""
        chats = list(chat_ids)
        result = await self._session.execute(
            select(Membership.chat_id, func.count(func.distinct(Membership.user_id)))
            .join(MemberStage, MemberStage.user_id == Membership.user_id)
            .where(
                Membership.chat_id.in_(chats),
                Membership.left_at.is_(None),
                MemberStage.stage == "silent",
            )
            .group_by(Membership.chat_id)
        )
        counts = {chat: 0 for chat in chats} | {int(c): int(n) for c, n in result.all()}
        for chat, count in counts.items():
            stmt = insert_for(self._session, DailyRollup).values(
                chat_id=chat, day=day, silent_members=count
            )
            await self._session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["chat_id", "day"], set_={"silent_members": count}
                )
            )
        return counts

    # -- win-back ------------------------------------------------------------------------------

    async def winback_candidates(
        self,
        now: datetime,
        *,
        after: timedelta,
        caps: dict[str, timedelta],
        other: timedelta,
        within: Select[Any] | None,
        limit: int,
    ) -> list[int]:
        """Reachable members silent (or churned) for ``after`` whose last win-back is older
        than their tier's cap (the longest of their tiers; ``other`` without a tier)."""
        last = func.coalesce(Member.last_seen_at, Member.first_seen_at)
        never = MemberStage.winback_at.is_(None)
        query = (
            select(Member.user_id)
            .join(MemberStage, MemberStage.user_id == Member.user_id)
            .where(
                MemberStage.stage.in_(("silent", "churned")),
                last <= _at(now - after),
                Member.dm_allowed.is_(True),
                Member.unreachable_at.is_(None),
                ~has_tag("team"),
            )
        )
        for tier, every in caps.items():
            query = query.where(
                or_(never, MemberStage.winback_at <= _at(now - every), ~has_tag(f"tier:{tier}"))
            )
        any_tier = exists().where(
            MemberTag.user_id == Member.user_id,
            MemberTag.tag.in_([f"tier:{tier}" for tier in caps]),
        )
        query = query.where(or_(never, MemberStage.winback_at <= _at(now - other), any_tier))
        if within is not None:
            query = query.where(Member.user_id.in_(within))
        result = await self._session.execute(query.order_by(Member.user_id).limit(limit))
        return [int(user_id) for user_id in result.scalars().all()]

    async def mark_winback(self, user_id: int, now: datetime) -> None:
        await self._session.execute(
            update(MemberStage).where(MemberStage.user_id == user_id).values(winback_at=now)
        )

    # -- DMs to many members -------------------------------------------------------------------

    async def enqueue_private(
        self,
        users: Select[Any],
        *,
        key_prefix: str,
        purpose: Purpose,
        payload: dict[str, Any],
        now: datetime,
        due_at: datetime,
    ) -> int:
        """One outbox row per member ``users`` (a ``SELECT user_id``) selects, keyed
        ``key_prefix + user_id`` (queued once, however often this runs): a single
        ``INSERT … SELECT``, the members never pass through Python."""
        ids = users.subquery()
        source = select(
            literal(key_prefix, String) + cast(ids.c.user_id, String),
            ids.c.user_id,
            literal(ChatKind.PRIVATE, String),
            literal(purpose, String),
            literal("sendMessage", String),
            literal(payload, JSON),
            literal(OutboxStatus.PENDING, String),
            _at(due_at),
            literal(0),
            _at(now),
        ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        stmt = (
            insert_for(self._session, OutboxMessage)
            .from_select(
                [
                    "key",
                    "chat_id",
                    "chat_kind",
                    "purpose",
                    "method",
                    "payload",
                    "status",
                    "due_at",
                    "attempts",
                    "created_at",
                ],
                source,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return _rows(await self._session.execute(stmt))


def _qualifying(
    metric: str, at_least: int, since: datetime | None, since_day: date | None
) -> Select[Any]:
    """``SELECT user_id`` of members with at least ``at_least`` of ``metric`` (since then)."""
    if metric == "messages":
        query = (
            select(ActivityDaily.user_id)
            .group_by(ActivityDaily.user_id)
            .having(func.sum(ActivityDaily.messages) >= at_least)
        )
        return query if since_day is None else query.where(ActivityDaily.day >= since_day)
    if metric == "questions":
        query = select(Question.user_id).group_by(Question.user_id).having(func.count() >= at_least)
        return query if since is None else query.where(Question.asked_at >= _at(since))
    if metric == "hooks":
        query = (
            select(HookHit.user_id)
            .group_by(HookHit.user_id)
            .having(func.sum(HookHit.count) >= at_least)
        )
        return query if since is None else query.where(HookHit.last_at >= _at(since))
    if metric == "coupons_redeemed":
        query = (
            select(Coupon.user_id)
            .where(Coupon.redeemed_at.is_not(None))
            .group_by(Coupon.user_id)
            .having(func.count() >= at_least)
        )
        return query if since is None else query.where(Coupon.redeemed_at >= _at(since))
    raise ValueError(f"unknown metric {metric!r}")
