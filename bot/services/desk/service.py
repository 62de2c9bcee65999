"""The member's side of the desk: a private message opens, reopens or joins their ticket; the
FAQ or a hook answers it at once, or it is relayed to the team chat."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.desk import ANSWERED, CLOSED, OPEN, DeskTicket
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories import TagRepository
from bot.db.repositories.desk import DeskRepository
from bot.services.desk import views
from bot.services.desk.clock import DeskClock
from bot.services.desk.dto import MemberMessage
from bot.services.desk.routing import DeskRouting
from bot.services.dto import Origin, Person
from bot.services.members.ledger import LedgerService
from bot.services.messenger import Messenger
from bot.services.sop.hooks import HookService
from sop.engine import SopEngine

log = logging.getLogger(__name__)


class DeskService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        ledger: LedgerService,
        hooks: HookService,
    ) -> None:
        self._session = session
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._ledger = ledger
        self._hooks = hooks
        self._repo = DeskRepository(session)
        self._clock = DeskClock(config)
        self.routing = DeskRouting(session, config, messenger, self._repo)

    @property
    def session(self) -> AsyncSession:
        return self._session

    @property
    def repo(self) -> DeskRepository:
        return self._repo

    @property
    def clock(self) -> DeskClock:
        return self._clock

    async def on_message(self, message: MemberMessage, now: datetime) -> str:
        """A member's private message; returns what became of it: ``faq``, ``hook``,
        ``relayed``, ``bounded`` (a flood: counted, not copied) or ``off``."""
        if not self._config.service.enabled:
            return "off"
        person = message.person
        await self._ledger.record_reachability(person, True, now)  # they wrote: reachable
        member = await self._session.get(Member, person.id)
        ticket, new_wait = await self._ticket_for(person.id, now)
        ticket.messages += 1
        ticket.last_member_at = now
        ticket.last_member_message_id = message.message_id
        if new_wait and message.text:
            if await self._hooks.on_private(person.id, message.text, now):
                self._answered_automatically(ticket, now)
                return "hook"
            found = self._engine.faq_answer(message.text)
            if found is not None and found[0].score >= self._config.service.faq_threshold:
                await self._faq_answer(ticket, member, found[1].question, found[1].answer, now)
                return "faq"
        return await self._to_person(ticket, member, message.message_id, new_wait, now)

    async def help(self, origin: Origin, person: Person, now: datetime) -> None:
        """``/help`` from a member in private: what they can do (operators get the team's)."""
        await self._messenger.send(
            key=f"reply:{origin.update_id}",
            chat_id=origin.chat_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template="desk_help",
            locale=self._messenger.renderer.locale_for(person.language_code),
            context={
                "has_faq": bool(self._engine.spec.faq),
                "hours": self._config.service.hours,
                "invite": self._config.referral is not None,
            },
            now=now,
            lane=SERVICE_LANE,
        )

    async def talk_to_person(self, ticket_id: int, presser: int, now: datetime) -> str:
        """ "Talk to a person" under an automatic answer: only the ticket's member may press;
        their last message goes to the team."""
        ticket = await self._repo.get(ticket_id)
        if ticket is None or ticket.user_id != presser:
            return "desk_not_yours"
        if ticket.status == OPEN and not ticket.automatic:
            return "desk_person_coming"
        if ticket.last_member_message_id is None:
            return "desk_not_yours"
        member = await self._session.get(Member, presser)
        if ticket.status == CLOSED:
            ticket.closed_at, ticket.close_reason, ticket.reopened = None, None, ticket.reopened + 1
        ticket.automatic = False
        self._start_wait(ticket, now)
        await self._to_person(ticket, member, ticket.last_member_message_id, True, now)
        return "desk_person_coming"

    async def rate(self, ticket_id: int, presser: int, rating: int, now: datetime) -> str:
        """A rating 1-5 of a closed ticket, once, by its member only."""
        ticket = await self._repo.get(ticket_id)
        if ticket is None or ticket.user_id != presser or not 1 <= rating <= 5:
            return "desk_not_yours"
        if ticket.rating is not None:
            return "desk_rated_before"
        ticket.rating, ticket.rated_at = rating, now
        return "desk_rated"

    # -- internals --------------------------------------------------------------------------
    async def _ticket_for(self, user_id: int, now: datetime) -> tuple[DeskTicket, bool]:
        """The member's ticket for this message and whether a new wait begins (a new or
        reopened ticket, or a message after the team's answer)."""
        ticket = await self._repo.latest(user_id)
        if ticket is None:
            ticket = await self._repo.add(
                DeskTicket(
                    user_id=user_id,
                    status=OPEN,
                    opened_at=now,
                    last_member_at=now,
                    automatic=False,
                    holding_sent=False,
                    reminded=False,
                    messages=0,
                    unrelayed=0,
                    relay_window_count=0,
                    reopened=0,
                    role=await self._role_of(user_id),
                )
            )
            self._start_wait(ticket, now)
            return ticket, True
        if ticket.status == CLOSED:
            ticket.status, ticket.closed_at, ticket.close_reason = OPEN, None, None
            ticket.reopened += 1
            ticket.automatic = False
            ticket.role = await self._role_of(user_id)
            self._start_wait(ticket, now)
            return ticket, True
        if ticket.status == ANSWERED:
            ticket.status = OPEN
            self._start_wait(ticket, now)
            return ticket, True
        return ticket, False

    def _start_wait(self, ticket: DeskTicket, now: datetime) -> None:
        ticket.status = OPEN
        ticket.waiting_since = now
        ticket.deadline = self._clock.deadline(now)
        ticket.reminded = False

    def _answered_automatically(self, ticket: DeskTicket, now: datetime) -> None:
        ticket.status, ticket.answered_at, ticket.automatic = ANSWERED, now, True
        ticket.deadline = None

    async def _faq_answer(
        self, ticket: DeskTicket, member: Member | None, question: str, answer: str, now: datetime
    ) -> None:
        locale = self._messenger.renderer.locale_for(member.language_code if member else None)
        await self._messenger.send(
            key=f"desk:faq:{ticket.id}:{ticket.messages}.{ticket.reopened}",
            chat_id=ticket.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.DESK_FAQ,
            template="desk_faq_answer",
            locale=locale,
            context={"question": question, "answer": answer},
            now=now,
            lane=SERVICE_LANE,
            reply_markup=views.human_button(
                ticket, self._messenger.label("desk_human_button", locale, fallback="👤")
            ),
        )
        self._answered_automatically(ticket, now)

    async def _to_person(
        self,
        ticket: DeskTicket,
        member: Member | None,
        message_id: int,
        new_wait: bool,
        now: datetime,
    ) -> str:
        ticket.automatic = False
        relayed = await self.routing.relay(ticket, member, message_id, with_card=new_wait, now=now)
        if new_wait and not self._clock.is_open(now):
            opens = self._clock.opens_at(now)
            locale = self._messenger.renderer.locale_for(member.language_code if member else None)
            await self._messenger.send(
                key=f"desk:closed-hours:{ticket.id}:{ticket.reopened}:{ticket.messages}",
                chat_id=ticket.user_id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.DESK_AUTO,
                template="desk_after_hours",
                locale=locale,
                context={
                    "opens": opens.astimezone(self._config.tz).strftime("%a %H:%M")
                    if opens
                    else None,
                    "hours": self._config.service.hours,
                },
                now=now,
                lane=SERVICE_LANE,
            )
        if self._config.team.chat is None:
            log.warning("private message of %d: no team chat to relay it to", ticket.user_id)
        return "relayed" if relayed else "bounded"

    async def _role_of(self, user_id: int) -> str | None:
        """``service.vip``: the role a member's tags route them to."""
        vip = self._config.service.vip
        if not vip:
            return None
        tags = {tag for tag, _, _ in await TagRepository(self._session).of(user_id)}
        return next((role for tag, role in vip.items() if tag in tags), None)
