"""Plain chatter in bulk (``bot/services/members/chatter.py``): a getUpdates batch's members'
messages recorded in a few Core statements, each run once for the whole batch (executemany),
instead of five ORM round trips per message.

Core, not the ORM: nothing here is loaded into the session, so the ORM's unit of work, identity
map and attribute events cost nothing. The statements are built once per dialect and kept
(SQLAlchemy caches their compiled form too)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ActivityDaily, DailyRollup, Member, ProcessedUpdate
from bot.db.upsert import insert_for

_members = cast(Table, Member.__table__)
_activity = cast(Table, ActivityDaily.__table__)
_rollups = cast(Table, DailyRollup.__table__)
_updates = cast(Table, ProcessedUpdate.__table__)

#: (dialect, name) → statement
_BUILT: dict[tuple[str, str], Any] = {}


def _touch() -> Any:
    """A member's profile as their last message showed it (an erased member's stays blank,
    issue 15) and their last-seen time, never moved back."""
    c = _members.c
    at = bindparam("b_at", type_=c.last_seen_at.type)
    fresh = c.erased_at.is_(None)
    return (
        update(_members)
        .where(c.user_id == bindparam("b_uid", type_=c.user_id.type))
        .values(
            first_name=case(
                (fresh, bindparam("b_fn", type_=c.first_name.type)), else_=c.first_name
            ),
            username=case((fresh, bindparam("b_un", type_=c.username.type)), else_=c.username),
            language_code=case(
                (fresh, bindparam("b_lc", type_=c.language_code.type)), else_=c.language_code
            ),
            last_seen_at=case(
                (c.last_seen_at.is_(None) | (c.last_seen_at < at), at), else_=c.last_seen_at
            ),
        )
    )


class ChatterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def _built(self, name: str) -> Any:
        key = (self._dialect, name)
        stmt = _BUILT.get(key)
        if stmt is None:
            stmt = _BUILT[key] = self._build(name)
        return stmt

    def _build(self, name: str) -> Any:
        if name == "claim":
            ins = insert_for(self._session, _updates)
            return ins.on_conflict_do_nothing(index_elements=["update_id"]).returning(
                _updates.c.update_id
            )
        if name == "bump":
            ins = insert_for(self._session, _activity)
            return ins.on_conflict_do_update(
                index_elements=["chat_id", "user_id", "day"],
                set_={"messages": _activity.c.messages + ins.excluded.messages},
            ).returning(
                _activity.c.chat_id, _activity.c.user_id, _activity.c.day, _activity.c.messages
            )
        if name == "rollup":
            ins = insert_for(self._session, _rollups)
            return ins.on_conflict_do_update(
                index_elements=["chat_id", "day"],
                set_={
                    "messages": _rollups.c.messages + ins.excluded.messages,
                    "active_members": _rollups.c.active_members + ins.excluded.active_members,
                },
            )
        if name == "touch":
            return _touch()
        if name == "last_seen":
            ids = _members.c.user_id
            if self._dialect == "postgresql":  # one statement (prepared once) for any count
                where = ids == func.any(bindparam("ids", type_=ARRAY(BigInteger())))
            else:
                where = ids.in_(bindparam("ids", expanding=True))
            return select(ids, _members.c.last_seen_at).where(where)
        raise KeyError(name)

    async def last_seen(self, user_ids: Iterable[int]) -> dict[int, datetime | None]:
        """The known members among ``user_ids`` and when each was last seen."""
        conn = await self._session.connection()
        rows = await conn.execute(self._built("last_seen"), {"ids": sorted(set(user_ids))})
        return {int(uid): seen for uid, seen in rows}

    async def claim(self, update_ids: Sequence[int], now: datetime) -> set[int]:
        """The ids among ``update_ids`` seen for the first time (now remembered as handled)."""
        if not update_ids:
            return set()
        conn = await self._session.connection()
        rows = await conn.execute(
            self._built("claim"), [{"update_id": i, "handled_at": now} for i in update_ids]
        )
        return {int(row[0]) for row in rows}

    async def touch(self, profiles: Sequence[dict[str, Any]]) -> None:
        """``profiles``: ``b_uid``, ``b_fn``, ``b_un``, ``b_lc``, ``b_at`` each."""
        if profiles:
            conn = await self._session.connection()
            await conn.execute(self._built("touch"), list(profiles))

    async def bump(self, counts: dict[tuple[int, int, date], int]) -> set[tuple[int, int, date]]:
        """Adds each (chat, member, day)'s messages; returns the keys that had no row before
        (the member's first message in that chat that day)."""
        if not counts:
            return set()
        conn = await self._session.connection()
        params = [
            {"chat_id": chat, "user_id": user, "day": day, "messages": n}
            for (chat, user, day), n in counts.items()
        ]
        rows = await conn.execute(self._built("bump"), params)
        # a row whose count is exactly this batch's was created by this statement
        return {
            (int(chat), int(user), day)
            for chat, user, day, messages in rows
            if int(messages) == counts[(int(chat), int(user), day)]
        }

    async def add_rollups(self, rows: Sequence[dict[str, Any]]) -> None:
        """``rows``: ``chat_id``, ``day``, ``messages``, ``active_members`` each."""
        if rows:
            conn = await self._session.connection()
            await conn.execute(self._built("rollup"), list(rows))
