"""Delivery effects of broadcasts: each member's copy settled → their recipient row too; a card
with buttons sent → where it is, so that only presses on it count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage
from bot.db.models.broadcast import RecipientStatus
from bot.db.models.outbox import Purpose
from bot.db.repositories.broadcasts import BroadcastRepository, card_of


class BroadcastDeliveryHook:
    """Run by the delivery loop in the transaction that settles an outbox row; ``wake`` tells
    the broadcast pump there is progress (a slot in the backlog is free)."""

    def __init__(self, wake: Callable[[], None] = lambda: None) -> None:
        self._wake = wake

    async def _settle(
        self, session: AsyncSession, row: OutboxMessage, status: RecipientStatus, now: datetime
    ) -> None:
        broadcast_id = row.payload.get("_broadcast") if row.purpose == Purpose.BROADCAST else None
        if isinstance(broadcast_id, int):
            await BroadcastRepository(session).settle(broadcast_id, row.chat_id, status, now)
            self._wake()

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._settle(session, row, RecipientStatus.SENT, now)
        card = card_of(row.key)
        # a card without buttons (discarded) changes nothing; nor one whose answer was lost
        if card is not None and row.payload.get("reply_markup") and row.message_id is not None:
            await BroadcastRepository(session).place_card(card, row.chat_id, row.message_id)

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        await self._settle(session, row, RecipientStatus.BLOCKED, now)

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._settle(session, row, RecipientStatus.FAILED, now)
