"""Moderation actions and complaint alerts (community order). Flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ModAction, ModAlert, OutboxMessage
from bot.db.models.outbox import Purpose
from bot.db.upsert import insert_for

#: the outbox purpose of a rules post (pinned once sent)
RULES_POST = Purpose.RULES_POST


class ModActionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        chat_id: int,
        user_id: int,
        action: str,
        rule: str,
        at: datetime,
        message_id: int | None = None,
        by_user_id: int | None = None,
        until: datetime | None = None,
    ) -> ModAction:
        row = ModAction(
            chat_id=chat_id,
            user_id=user_id,
            message_id=message_id,
            action=action,
            rule=rule,
            by_user_id=by_user_id,
            at=at,
            until=until,
            revoked=False,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def done_to_message(self, chat_id: int, message_id: int, action: str) -> bool:
        """Whether ``action`` was recorded for that message already (an edit seen again)."""
        stmt = select(ModAction.id).where(
            ModAction.chat_id == chat_id,
            ModAction.message_id == message_id,
            ModAction.action == action,
        )
        return (await self._session.execute(stmt.limit(1))).first() is not None

    async def first_notice(self, chat_id: int, user_id: int, about: str, now: datetime) -> bool:
        """``True`` (and remembered) the first time a member is told ``about`` something."""
        stmt = select(ModAction.id).where(
            ModAction.chat_id == chat_id,
            ModAction.user_id == user_id,
            ModAction.action == "told",
            ModAction.rule == about,
        )
        if (await self._session.execute(stmt.limit(1))).first() is not None:
            return False
        await self.add(chat_id=chat_id, user_id=user_id, action="told", rule=about, at=now)
        return True

    async def told_since(
        self, chat_id: int, user_id: int, about: str, since: datetime, now: datetime
    ) -> bool:
        """``True`` (and remembered) when the member was not told ``about`` since ``since``."""
        stmt = select(ModAction.id).where(
            ModAction.chat_id == chat_id,
            ModAction.user_id == user_id,
            ModAction.action == "told",
            ModAction.rule == about,
            ModAction.at > since,
        )
        if (await self._session.execute(stmt.limit(1))).first() is not None:
            return False
        await self.add(chat_id=chat_id, user_id=user_id, action="told", rule=about, at=now)
        return True

    async def warnings(self, chat_id: int, user_id: int, since: datetime) -> int:
        """Warnings given since ``since`` and not taken back."""
        stmt = select(func.count()).where(
            ModAction.chat_id == chat_id,
            ModAction.user_id == user_id,
            ModAction.action == "warn",
            ModAction.at > since,
            ModAction.revoked.is_(False),
        )
        return int((await self._session.execute(stmt)).scalar_one())

    async def revoke_last_warning(self, chat_id: int, user_id: int, since: datetime) -> bool:
        stmt = (
            select(ModAction.id)
            .where(
                ModAction.chat_id == chat_id,
                ModAction.user_id == user_id,
                ModAction.action == "warn",
                ModAction.at > since,
                ModAction.revoked.is_(False),
            )
            .order_by(ModAction.at.desc(), ModAction.id.desc())
            .limit(1)
        )
        last = (await self._session.execute(stmt)).scalar_one_or_none()
        if last is None:
            return False
        await self._session.execute(
            update(ModAction).where(ModAction.id == last).values(revoked=True)
        )
        return True

    async def latest(self, limit: int, chat_id: int | None = None) -> Sequence[ModAction]:
        stmt = (
            select(ModAction)
            .where(ModAction.action != "told")
            .order_by(ModAction.at.desc(), ModAction.id.desc())
            .limit(limit)
        )
        if chat_id is not None:
            stmt = stmt.where(ModAction.chat_id == chat_id)
        return (await self._session.execute(stmt)).scalars().all()

    async def counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Actions by kind in ``[start, end)``."""
        stmt = (
            select(ModAction.action, func.count())
            .where(ModAction.at >= start, ModAction.at < end, ModAction.action != "told")
            .group_by(ModAction.action)
        )
        return {action: int(n) for action, n in (await self._session.execute(stmt)).all()}


class ModAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        chat_id: int,
        message_id: int,
        user_id: int,
        level: str,
        source: str,
        at: datetime,
        incident_id: int | None = None,
    ) -> int | None:
        """The new alert's id; ``None`` when that message was alerted from this source before
        (an edit, a second /report)."""
        stmt = (
            insert_for(self._session, ModAlert)
            .values(
                chat_id=chat_id,
                message_id=message_id,
                user_id=user_id,
                level=level,
                source=source,
                at=at,
                incident_id=incident_id,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "message_id", "source"])
            .returning(ModAlert.id)
        )
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def get(self, alert_id: int) -> ModAlert | None:
        return await self._session.get(ModAlert, alert_id)

    async def recent(self, chat_id: int, since: datetime) -> Sequence[ModAlert]:
        """Unresolved keyword alerts of a community since ``since``, oldest first."""
        stmt = (
            select(ModAlert)
            .where(
                ModAlert.chat_id == chat_id,
                ModAlert.at >= since,
                ModAlert.source == "keyword",
                ModAlert.resolved_at.is_(None),
            )
            .order_by(ModAlert.at, ModAlert.id)
        )
        return (await self._session.execute(stmt)).scalars().all()

    async def set_incident(self, alert_ids: Sequence[int], incident_id: int) -> None:
        await self._session.execute(
            update(ModAlert).where(ModAlert.id.in_(alert_ids)).values(incident_id=incident_id)
        )

    async def claim(self, alert_id: int, user_id: int, now: datetime) -> bool:
        """The first claim wins; ``False`` when claimed (or resolved) already."""
        result = await self._session.execute(
            update(ModAlert)
            .where(ModAlert.id == alert_id, ModAlert.claimed_by.is_(None))
            .values(claimed_by=user_id, claimed_at=now)
            .returning(ModAlert.id)
        )
        return result.first() is not None

    async def resolve(self, alert_id: int, user_id: int, now: datetime) -> bool:
        """Resolved (and claimed by the resolver if nobody had); ``False`` when it was."""
        result = await self._session.execute(
            update(ModAlert)
            .where(ModAlert.id == alert_id, ModAlert.resolved_at.is_(None))
            .values(
                resolved_by=user_id,
                resolved_at=now,
                claimed_by=func.coalesce(ModAlert.claimed_by, user_id),
                claimed_at=func.coalesce(ModAlert.claimed_at, now),
            )
            .returning(ModAlert.id)
        )
        return result.first() is not None

    async def unclaimed_before(self, level: str, before: datetime) -> Sequence[ModAlert]:
        """Open alerts of ``level`` raised before ``before``, nobody claimed, not reminded."""
        stmt = select(ModAlert).where(
            ModAlert.level == level,
            ModAlert.at < before,
            ModAlert.claimed_by.is_(None),
            ModAlert.resolved_at.is_(None),
            ModAlert.reminded_at.is_(None),
            ModAlert.incident_id.is_(None) | (ModAlert.incident_id == ModAlert.id),
        )
        return (await self._session.execute(stmt)).scalars().all()

    async def mark_reminded(self, alert_id: int, now: datetime) -> None:
        await self._session.execute(
            update(ModAlert).where(ModAlert.id == alert_id).values(reminded_at=now)
        )

    async def counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Alerts raised in ``[start, end)`` by level (incidents counted once), and how many
        were claimed and resolved."""
        heads = ModAlert.incident_id.is_(None) | (ModAlert.incident_id == ModAlert.id)
        stmt = (
            select(
                ModAlert.level,
                func.count(),
                func.count(ModAlert.claimed_at),
                func.count(ModAlert.resolved_at),
            )
            .where(ModAlert.at >= start, ModAlert.at < end, heads)
            .group_by(ModAlert.level)
        )
        out: dict[str, int] = {}
        for level, raised, claimed, resolved in (await self._session.execute(stmt)).all():
            out[level] = int(raised)
            out["claimed"] = out.get("claimed", 0) + int(claimed)
            out["resolved"] = out.get("resolved", 0) + int(resolved)
        return out


class RulesRepository:
    """Where each community's rules were last posted (the bot's pinned message)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pinned_message(self, chat_id: int) -> int | None:
        """The message id of the last rules post that went out in ``chat_id``."""
        stmt = (
            select(OutboxMessage.message_id)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.purpose == RULES_POST,
                OutboxMessage.message_id.is_not(None),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def pinned_message_link(self, chat_id: int) -> str | None:
        """``https://t.me/c/…`` of the pinned rules post, or ``None`` before one."""
        message_id = await self.pinned_message(chat_id)
        if message_id is None:
            return None
        internal = (
            str(chat_id).removeprefix("-100") if str(chat_id).startswith("-100") else str(-chat_id)
        )
        return f"https://t.me/c/{internal}/{message_id}"
