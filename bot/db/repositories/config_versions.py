"""The reloaded configurations (bot/config_sync.py stores and polls them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConfigVersion

#: reloads kept (older ones are history no process needs)
KEPT = 20


class ConfigVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def store(self, sha256: str, text: str, now: datetime) -> int:
        """A new newest version; returns its id."""
        row = ConfigVersion(sha256=sha256, text=text, stored_at=now)
        self._session.add(row)
        await self._session.flush()
        oldest_kept = (
            select(ConfigVersion.id).order_by(ConfigVersion.id.desc()).offset(KEPT).limit(1)
        ).scalar_subquery()
        await self._session.execute(delete(ConfigVersion).where(ConfigVersion.id <= oldest_kept))
        return row.id

    async def newest(self) -> tuple[int, str] | None:
        """The newest version's id and hash (``None`` before the first reload)."""
        row = (
            await self._session.execute(
                select(ConfigVersion.id, ConfigVersion.sha256)
                .order_by(ConfigVersion.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def text(self, version_id: int) -> str | None:
        return (
            await self._session.execute(
                select(ConfigVersion.text).where(ConfigVersion.id == version_id)
            )
        ).scalar_one_or_none()
