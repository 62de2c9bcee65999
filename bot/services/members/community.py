"""A member's message in a community: counted, checked for hook keywords and questions, or —
from an operator — taken as the answer to the questions waiting there."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories import TagRepository
from bot.services.dto import GroupMessage, Person
from bot.services.members.ledger import LedgerService
from bot.services.members.lifecycle import LifecycleService
from bot.services.sop.hooks import HookService
from bot.services.sop.questions import QuestionService

#: the tag of people the bot has seen in the team chat
TEAM_TAG = "team"


class CommunityService:
    def __init__(
        self,
        session: AsyncSession,
        ledger: LedgerService,
        hooks: HookService,
        questions: QuestionService,
        lifecycle: LifecycleService | None = None,
    ) -> None:
        self._tags = TagRepository(session)
        self._lifecycle = lifecycle
        self._ledger = ledger
        self._hooks = hooks
        self._questions = questions

    async def on_message(self, message: GroupMessage, now: datetime) -> None:
        seen_before = await self._ledger.record_message(
            message.chat_id, message.person, now, message.sent_at
        )
        if self._lifecycle is not None:
            await self._lifecycle.on_message(message, now, seen_before=seen_before)
        if not message.from_operator:
            await self._hooks.on_message(message, now)
        await self._questions.on_message(message, now)

    async def known_teammates(self) -> list[int]:
        """Everyone seen in the team chat and not seen leaving it."""
        return await self._tags.members_with(TEAM_TAG)

    async def on_admin_message(self, message: GroupMessage, now: datetime) -> None:
        """An anonymous admin (posting as the group) answered: it counts as the team's answer
        and as nobody's activity."""
        await self._questions.on_message(replace(message, from_operator=True), now)

    async def record_teammate(self, person: Person, present: bool, now: datetime) -> None:
        """Someone spoke in, joined or left the team chat: remembered in the database (the
        ``team`` tag), so that after a restart they are asked of Telegram again before their
        first community answer (see :meth:`known_teammates`). The tag itself proves nothing:
        a teammate removed while the bot missed the update would keep it."""
        await self._ledger.seen(person, now)
        if present:
            await self._tags.add(person.id, TEAM_TAG, "team-chat", now)
        else:
            await self._tags.remove(person.id, TEAM_TAG, "team-chat", now)
