"""Delivery hook: the farewell of an erasure ("your data is erased") goes to the member's real
chat, the one row that still names it; once settled, that row takes the pseudonym too and keeps
no payload (bot/db/repositories/pseudonyms.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage

#: the payload key carrying the pseudonym the row takes once settled
PSEUDONYM = "_pseudonym"


class FarewellDeliveryHook:
    def _settle(self, row: OutboxMessage) -> None:
        if isinstance(row.payload, dict) and PSEUDONYM in row.payload:
            row.chat_id = int(row.payload[PSEUDONYM])
            row.payload = {}

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        self._settle(row)

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        self._settle(row)

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        self._settle(row)
