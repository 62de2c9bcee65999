"""Login links and sessions of the operators' dashboard, by the SHA-256 of their tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import DashboardLogin, DashboardSession

#: a login link is good for this long, once
LOGIN_VALID = timedelta(minutes=10)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def new_login(self, user_id: int, language_code: str | None, now: datetime) -> str:
        """A one-time login link's token (kept hashed; valid :data:`LOGIN_VALID`)."""
        token = secrets.token_urlsafe(32)
        await self.add_login(token, user_id, language_code, now, now + LOGIN_VALID)
        return token

    async def add_login(
        self, token: str, user_id: int, language_code: str | None, now: datetime, until: datetime
    ) -> None:
        self._session.add(
            DashboardLogin(
                token_hash=token_hash(token),
                user_id=user_id,
                language_code=language_code,
                created_at=now,
                expires_at=until,
                used_at=None,
            )
        )
        await self._session.flush()

    async def login(self, token: str, now: datetime) -> DashboardLogin | None:
        """The link, when it is unused and unexpired (nothing changed)."""
        row = await self._session.get(DashboardLogin, token_hash(token))
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        return row

    async def use_login(self, token: str, now: datetime) -> DashboardLogin | None:
        """Marks the link used and returns it; ``None`` when it was used, expired or unknown.
        One statement: of two requests with the same link, one wins."""
        used = await self._session.execute(
            update(DashboardLogin)
            .where(
                DashboardLogin.token_hash == token_hash(token),
                DashboardLogin.used_at.is_(None),
                DashboardLogin.expires_at > now,
            )
            .values(used_at=now)
            .returning(DashboardLogin.user_id, DashboardLogin.language_code)
        )
        row = used.first()
        if row is None:
            return None
        return DashboardLogin(user_id=row.user_id, language_code=row.language_code)

    async def add_session(
        self, token: str, user_id: int, language_code: str | None, now: datetime, until: datetime
    ) -> None:
        self._session.add(
            DashboardSession(
                token_hash=token_hash(token),
                user_id=user_id,
                language_code=language_code,
                created_at=now,
                expires_at=until,
            )
        )
        await self._session.flush()

    async def session(self, token: str, now: datetime) -> DashboardSession | None:
        row = await self._session.scalar(
            select(DashboardSession).where(
                DashboardSession.token_hash == token_hash(token),
                DashboardSession.expires_at > now,
            )
        )
        return row

    async def end_session(self, token: str) -> None:
        await self._session.execute(
            delete(DashboardSession).where(DashboardSession.token_hash == token_hash(token))
        )

    async def prune(self, now: datetime) -> int:
        """Expired links and sessions (a link's row is kept until it expires, used or not)."""
        gone = 0
        for model in (DashboardLogin, DashboardSession):
            result = await self._session.execute(delete(model).where(model.expires_at <= now))
            gone += int(getattr(result, "rowcount", 0) or 0)
        return gone
