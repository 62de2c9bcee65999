"""First response: a member's question must get an answer within ``first_response.within``.

A question opens with its time; an operator's reply to it, or any operator message in the chat
after it, answers it. When the time runs out the bot answers from the FAQ (marked automatic) or
escalates to the team chat with a link to the message.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Question, QuestionStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import QuestionRepository, RollupRepository
from bot.services.dto import GroupMessage, message_link
from bot.services.messenger import Messenger
from sop.engine import SopEngine
from sop.faq import FaqEntry

log = logging.getLogger(__name__)


def faq_key(question: str) -> str:
    """A stable name for an FAQ entry (its question's hash)."""
    return hashlib.sha256(question.encode()).hexdigest()[:16]


class QuestionService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._questions = QuestionRepository(session)
        self._rollups = RollupRepository(session)

    async def on_message(self, message: GroupMessage, now: datetime) -> None:
        if not self._config.first_response.enabled:
            return
        if message.from_operator:
            await self._answered(message, now)
            return
        if not message.text or not self._engine.is_question(
            message.text, replies_to_bot=message.replies_to_bot
        ):
            return
        asked_at = message.sent_at or now
        match = self._engine.faq_answer(message.text)
        opened = await self._questions.open(
            Question(
                chat_id=message.chat_id,
                message_id=message.message_id,
                user_id=message.person.id,
                asked_at=asked_at,
                deadline=self._engine.question_deadline(asked_at),
            )
        )
        if opened:
            await self._rollups.add(message.chat_id, self._day(asked_at), questions=1)
            if match is not None:  # the entry's key, not its place: a reload may reorder them
                await self._questions.remember_faq(
                    message.chat_id, message.message_id, faq_key(match[1].question)
                )

    async def _answered(self, message: GroupMessage, now: datetime) -> None:
        now = message.sent_at or now  # the answer's own time: a backlog does not slow it
        if message.reply_to_message_id is not None:
            waiting = await self._questions.open_before(
                message.chat_id, now, message.reply_to_message_id
            )
        else:
            waiting = await self._questions.open_before(message.chat_id, now)
        for question in waiting:
            question.status = QuestionStatus.ANSWERED
            question.answered_at = now
            question.answered_by = message.person.id
            question.response_seconds = int((now - question.asked_at).total_seconds())

    async def act_on_overdue(self, now: datetime) -> datetime | None:
        """Answers or escalates the questions whose time ran out; returns the next deadline."""
        for question in await self._questions.due(now):
            entry = self._faq_entry(question.faq_key)
            if entry is not None:
                await self._messenger.send(
                    key=f"faq:{question.id}",
                    chat_id=question.chat_id,
                    chat_kind=ChatKind.GROUP,
                    purpose=Purpose.FAQ,
                    template="faq_answer",
                    locale=self._messenger.renderer.default_locale,
                    now=now,
                    context={"question": entry.question, "answer": entry.answer},
                    reply_to=question.message_id,
                )
                question.status = QuestionStatus.AUTO
                await self._rollups.add(
                    question.chat_id, self._day(question.asked_at), auto_answered=1
                )
            else:
                await self._escalate(question, now)
                question.status = QuestionStatus.ESCALATED
                await self._rollups.add(question.chat_id, self._day(question.asked_at), escalated=1)
        return await self._questions.next_deadline()

    async def _escalate(self, question: Question, now: datetime) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            log.warning("question %d waited past the SLA and there is no team chat", question.id)
            return
        community = self._config.community(question.chat_id)
        await self._messenger.send(
            key=f"escalate:{question.id}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.TEAM,
            template="escalation",
            locale=self._messenger.renderer.default_locale,
            now=now,
            context={
                "community": community.title if community else str(question.chat_id),
                "link": message_link(question.chat_id, question.message_id),
                "waited_minutes": int((now - question.asked_at).total_seconds() // 60),
            },
        )

    def _faq_entry(self, key: str | None) -> FaqEntry | None:
        """The entry matched when the question was asked, if the FAQ still has it."""
        if key is None:
            return None
        return next((e for e in self._engine.spec.faq if faq_key(e.question) == key), None)

    def _day(self, at: datetime) -> date:
        return at.astimezone(self._config.tz).date()
