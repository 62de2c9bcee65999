"""What community order does once the outbox settled one of its rows: a short notice to the
group (to a member the bot cannot DM) deletes itself a minute after it went; a rules post is
pinned (``pinChatMessage``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.repositories.moderation import RULES_POST
from bot.services.moderation.service import SELF_DELETING

#: when the config gives no length (the row outlived a reload)
DEFAULT_LASTS = timedelta(seconds=60)


class ModerationDeliveryHook:
    def __init__(self, lasts: timedelta = DEFAULT_LASTS) -> None:
        self._lasts = lasts

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        if row.message_id is None:
            return
        if row.purpose == RULES_POST:
            await OutboxRepository(session).enqueue(
                key=f"rules:pin:{row.chat_id}:{row.message_id}",
                chat_id=row.chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.MODERATION,
                method="pinChatMessage",
                payload={"message_id": row.message_id, "disable_notification": True},
                now=now,
            )
            return
        if row.purpose != SELF_DELETING:
            return
        await OutboxRepository(session).enqueue(
            key=f"mod:del:{row.chat_id}:{row.message_id}",
            chat_id=row.chat_id,
            chat_kind=ChatKind.API,
            purpose=Purpose.MODERATION,
            method="deleteMessage",
            payload={"message_id": row.message_id},
            now=now,
            due_at=now + self._lasts,
        )

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        return None

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        return None
