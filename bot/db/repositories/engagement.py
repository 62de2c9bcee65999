"""Hook hits, member tags and member questions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import HookHit, MemberTag, Question, QuestionStatus, TagEvent
from bot.db.models.tags import ADDED, REMOVED
from bot.db.upsert import insert_for


class HookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def hit(self, hook_id: str, user_id: int, now: datetime) -> int:
        """Counts a trigger; returns how many times this member has triggered the hook now."""
        stmt = insert_for(self._session, HookHit).values(
            hook_id=hook_id, user_id=user_id, first_at=now, last_at=now, count=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["hook_id", "user_id"], set_={"count": HookHit.count + 1, "last_at": now}
        ).returning(HookHit.count)
        return int((await self._session.execute(stmt)).scalar_one())

    async def has(self, hook_id: str, user_id: int) -> bool:
        result = await self._session.execute(
            select(HookHit.count).where(HookHit.hook_id == hook_id, HookHit.user_id == user_id)
        )
        return result.first() is not None


class TagRepository:
    """Member tags, each add and remove written to the tag history (``tag_events``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user_id: int, tag: str, by: str, now: datetime) -> bool:
        """Puts ``tag`` on the member; ``False`` when it was there already (no history then)."""
        stmt = (
            insert_for(self._session, MemberTag)
            .values(
                user_id=user_id,
                tag=tag[:64],
                added_at=now,
                added_by=by[:32],
            )
            .on_conflict_do_nothing(index_elements=["user_id", "tag"])
            .returning(MemberTag.tag)
        )
        added = (await self._session.execute(stmt)).first() is not None
        if added:
            self._session.add(
                TagEvent(user_id=user_id, tag=tag[:64], action=ADDED, at=now, by=by[:32])
            )
        return added

    async def add_many(
        self, user_ids: Sequence[int], tag: str, by: str, now: datetime
    ) -> list[int]:
        """:meth:`add` for many members in one statement (and one for their history): the
        ids that did not have ``tag`` yet, in the order given. One compiled statement for
        every batch (SQLAlchemy's "insertmanyvalues" executemany, not a VALUES list built
        per call)."""
        if not user_ids:
            return []
        tag, by = tag[:64], by[:32]
        stmt = (
            insert_for(self._session, MemberTag)
            .on_conflict_do_nothing(index_elements=["user_id", "tag"])
            .returning(MemberTag.user_id)
        )
        rows = [{"user_id": uid, "tag": tag, "added_at": now, "added_by": by} for uid in user_ids]
        new = set((await self._session.execute(stmt, rows)).scalars())
        added = [uid for uid in user_ids if uid in new]
        await self._history(added, tag, ADDED, by, now)
        return added

    async def remove_many(
        self, user_ids: Sequence[int], tag: str, by: str, now: datetime
    ) -> list[int]:
        """:meth:`remove` for many members in one statement (and one for their history): the
        ids that had ``tag``, in the order given."""
        if not user_ids:
            return []
        result = await self._session.execute(
            delete(MemberTag)
            .where(MemberTag.tag == tag, MemberTag.user_id.in_(user_ids))
            .returning(MemberTag.user_id)
        )
        gone = set(result.scalars())
        removed = [uid for uid in user_ids if uid in gone]
        await self._history(removed, tag[:64], REMOVED, by[:32], now)
        return removed

    async def _history(
        self, user_ids: Sequence[int], tag: str, action: str, by: str, now: datetime
    ) -> None:
        if user_ids:
            await self._session.execute(
                insert(TagEvent),
                [
                    {"user_id": uid, "tag": tag, "action": action, "at": now, "by": by}
                    for uid in user_ids
                ],
            )

    async def has(self, user_id: int, tag: str) -> bool:
        result = await self._session.execute(
            select(MemberTag.tag).where(MemberTag.user_id == user_id, MemberTag.tag == tag)
        )
        return result.first() is not None

    async def remove(
        self, user_id: int, tag: str, by: str = "system", now: datetime | None = None
    ) -> bool:
        """Takes ``tag`` off; ``False`` when the member did not have it. The history records
        the removal when ``now`` is given (every caller in the bot gives it)."""
        result = await self._session.execute(
            delete(MemberTag)
            .where(MemberTag.user_id == user_id, MemberTag.tag == tag)
            .returning(MemberTag.tag)
        )
        removed = result.first() is not None
        if removed and now is not None:
            self._session.add(
                TagEvent(user_id=user_id, tag=tag[:64], action=REMOVED, at=now, by=by[:32])
            )
        return removed

    async def members_with(self, tag: str) -> list[int]:
        """The ids of every member carrying ``tag``."""
        result = await self._session.execute(select(MemberTag.user_id).where(MemberTag.tag == tag))
        return list(result.scalars())

    async def of(self, user_id: int) -> list[tuple[str, datetime, str]]:
        """The member's tags with when and by whom/what they were put there."""
        result = await self._session.execute(
            select(MemberTag.tag, MemberTag.added_at, MemberTag.added_by)
            .where(MemberTag.user_id == user_id)
            .order_by(MemberTag.tag)
        )
        return [(tag, at, by) for tag, at, by in result.all()]

    async def history(self, user_id: int, limit: int = 50) -> list[TagEvent]:
        """The member's latest tag events, newest first (lifecycle moves included)."""
        result = await self._session.execute(
            select(TagEvent)
            .where(TagEvent.user_id == user_id)
            .order_by(TagEvent.at.desc(), TagEvent.id.desc())
            .limit(limit)
        )
        return list(result.scalars().all())

    async def movements(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """Per tag, how many times it was added and removed in ``[start, end)`` — lifecycle
        moves appear as ``lifecycle:<stage>`` (added = members who entered the stage)."""
        result = await self._session.execute(
            select(TagEvent.tag, TagEvent.action, func.count())
            .where(TagEvent.at >= start, TagEvent.at < end)
            .group_by(TagEvent.tag, TagEvent.action)
        )
        out: dict[str, tuple[int, int]] = {}
        for tag, action, count in result.all():
            added, removed = out.get(tag, (0, 0))
            out[tag] = (
                (added + int(count), removed) if action == ADDED else (added, removed + int(count))
            )
        return dict(sorted(out.items()))


class QuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open(self, question: Question) -> bool:
        stmt = (
            insert_for(self._session, Question)
            .values(
                chat_id=question.chat_id,
                message_id=question.message_id,
                user_id=question.user_id,
                asked_at=question.asked_at,
                deadline=question.deadline,
                status=QuestionStatus.OPEN,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "message_id"])
            .returning(Question.id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def open_before(
        self, chat_id: int, before: datetime, message_id: int | None = None
    ) -> Sequence[Question]:
        """Questions in ``chat_id`` asked before ``before`` still waiting for a human (open, or
        escalated to the team) — only the one with ``message_id`` when given; locked."""
        stmt = select(Question).where(
            Question.chat_id == chat_id,
            Question.status.in_((QuestionStatus.OPEN, QuestionStatus.ESCALATED)),
            Question.asked_at <= before,
        )
        if message_id is not None:
            stmt = stmt.where(Question.message_id == message_id)
        result = await self._session.execute(stmt.with_for_update(skip_locked=True))
        return result.scalars().all()

    async def due(self, now: datetime, limit: int = 200) -> Sequence[Question]:
        result = await self._session.execute(
            select(Question)
            .where(Question.status == QuestionStatus.OPEN, Question.deadline <= now)
            .order_by(Question.deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.scalars().all()

    async def next_deadline(self) -> datetime | None:
        result = await self._session.execute(
            select(func.min(Question.deadline)).where(Question.status == QuestionStatus.OPEN)
        )
        return result.scalar_one_or_none()

    async def asked_between(
        self, chat_id: int, start: datetime, end: datetime
    ) -> Sequence[Question]:
        result = await self._session.execute(
            select(Question).where(
                Question.chat_id == chat_id, Question.asked_at >= start, Question.asked_at < end
            )
        )
        return result.scalars().all()

    async def remember_faq(self, chat_id: int, message_id: int, faq_key: str) -> None:
        await self._session.execute(
            update(Question)
            .where(Question.chat_id == chat_id, Question.message_id == message_id)
            .values(faq_key=faq_key)
        )
