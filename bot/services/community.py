"""A member's message in a community: counted, checked for hook keywords and questions, or —
from an operator — taken as the answer to the questions waiting there."""

from __future__ import annotations

from datetime import datetime

from bot.services.dto import GroupMessage
from bot.services.hooks import HookService
from bot.services.ledger import LedgerService
from bot.services.questions import QuestionService


class CommunityService:
    def __init__(self, ledger: LedgerService, hooks: HookService,
                 questions: QuestionService) -> None:
        self._ledger = ledger
        self._hooks = hooks
        self._questions = questions

    async def on_message(self, message: GroupMessage, now: datetime) -> None:
        await self._ledger.record_message(message.chat_id, message.person, now,
                                          message.sent_at)
        if not message.from_operator:
            await self._hooks.on_message(message, now)
        await self._questions.on_message(message, now)
