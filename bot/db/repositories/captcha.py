"""Join protection's challenges (``captchas``). Flush, never commit.

A challenge is settled once: :meth:`CaptchaRepository.settle` moves it from ``pending`` in one
conditional ``UPDATE``, so a press and the loop's timeout racing each other (or two instances)
settle it once, whoever comes first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Captcha

PENDING, PASSED, FAILED = "pending", "passed", "failed"
REQUEST, JOIN = "request", "join"


class CaptchaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        chat_id: int,
        user_id: int,
        kind: str,
        token: str,
        answer: int,
        now: datetime,
        deadline: datetime,
        stint_id: int | None = None,
    ) -> Captcha:
        row = Captcha(
            chat_id=chat_id,
            user_id=user_id,
            kind=kind,
            token=token,
            answer=answer,
            status=PENDING,
            created_at=now,
            deadline=deadline,
            stint_id=stint_id,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def get(self, captcha_id: int) -> Captcha | None:
        return await self._session.get(Captcha, captcha_id)

    async def pending(self, chat_id: int, user_id: int, kind: str) -> Captcha | None:
        stmt = select(Captcha).where(
            Captcha.chat_id == chat_id,
            Captcha.user_id == user_id,
            Captcha.kind == kind,
            Captcha.status == PENDING,
        )
        return (
            await self._session.execute(stmt.order_by(Captcha.id).limit(1))
        ).scalar_one_or_none()

    async def by_token(self, token: str) -> Sequence[Captcha]:
        """The challenges behind a button (a group challenge's button is shared by its batch)."""
        stmt = select(Captcha).where(Captcha.token == token)
        return (await self._session.execute(stmt)).scalars().all()

    async def settle(self, captcha_id: int, status: str, outcome: str, now: datetime) -> bool:
        """``True`` when this call settled it (it was still pending)."""
        result = await self._session.execute(
            update(Captcha)
            .where(Captcha.id == captcha_id, Captcha.status == PENDING)
            .values(status=status, outcome=outcome, settled_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def due(self, now: datetime, limit: int = 200) -> Sequence[Captcha]:
        """Pending challenges whose time ran out, oldest first."""
        stmt = (
            select(Captcha)
            .where(Captcha.status == PENDING, Captcha.deadline <= now)
            .order_by(Captcha.deadline, Captcha.id)
            .limit(limit)
        )
        return (await self._session.execute(stmt)).scalars().all()

    async def next_deadline(self) -> datetime | None:
        stmt = select(func.min(Captcha.deadline)).where(Captcha.status == PENDING)
        value: datetime | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return value

    async def awaiting_challenge(self, chat_id: int, limit: int) -> Sequence[Captcha]:
        """Plain joiners still to be mentioned in a group challenge, oldest first."""
        stmt = (
            select(Captcha)
            .where(
                Captcha.chat_id == chat_id,
                Captcha.kind == JOIN,
                Captcha.status == PENDING,
                Captcha.challenge_outbox_id.is_(None),
            )
            .order_by(Captcha.created_at, Captcha.id)
            .limit(limit)
        )
        return (await self._session.execute(stmt)).scalars().all()

    async def assign_challenge(self, ids: Sequence[int], outbox_id: int, token: str) -> None:
        await self._session.execute(
            update(Captcha)
            .where(Captcha.id.in_(ids))
            .values(challenge_outbox_id=outbox_id, token=token)
            .execution_options(synchronize_session=False)
        )

    async def challenge_sent(
        self, outbox_id: int, message_id: int | None, at_least: datetime
    ) -> None:
        """The group challenge went out as ``message_id``: its joiners have until at least
        ``at_least`` (a backlog of the group's messages does not eat their time)."""
        stmt = select(Captcha).where(Captcha.challenge_outbox_id == outbox_id)
        for row in (await self._session.execute(stmt)).scalars():
            row.message_id = message_id
            if row.status == PENDING and row.deadline < at_least:
                row.deadline = at_least
        await self._session.flush()

    async def any_pending(self, outbox_id: int) -> bool:
        """Whether a joiner that group challenge mentions is still to answer."""
        stmt = select(Captcha.id).where(
            Captcha.challenge_outbox_id == outbox_id, Captcha.status == PENDING
        )
        return (await self._session.execute(stmt.limit(1))).first() is not None

    async def challenge_message(self, outbox_id: int) -> int | None:
        """The message a group challenge became, read afresh: the delivery hook records it in
        a transaction of its own, maybe while a press is being handled."""
        stmt = select(func.max(Captcha.message_id)).where(Captcha.challenge_outbox_id == outbox_id)
        value: int | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return value
