"""The audit log of team commands: appended once per update, read newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry
from bot.db.upsert import insert_for


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        update_id: int,
        at: datetime,
        user_id: int,
        user_name: str,
        chat_id: int,
        chat_kind: str,
        command: str,
        args: str,
        result: str,
    ) -> bool:
        """Writes one entry; ``False`` when the update has one already."""
        stmt = (
            insert_for(self._session, AuditEntry)
            .values(
                update_id=update_id,
                at=at,
                user_id=user_id,
                user_name=user_name[:128],
                chat_id=chat_id,
                chat_kind=chat_kind[:16],
                command=command[:32],
                args=args[:200],
                result=result[:16],
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(AuditEntry.id)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def latest(self, limit: int, offset: int = 0) -> Sequence[AuditEntry]:
        """The last ``limit`` entries (after skipping ``offset``), newest first."""
        return (
            (
                await self._session.execute(
                    select(AuditEntry)
                    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
