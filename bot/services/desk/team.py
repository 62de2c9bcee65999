"""The operators' side of the desk: what of the team chat reaches a member, and how.

Only two things do: an operator's reply to one of the desk's relays (card, copy, note) and, in a
forum team chat, an operator's message in the member's topic — except notes starting with ``!``.
Either is copied to the member (``copyMessage``: media included, sent by the bot, under the
brand's name). ``/answer KEY`` sends an FAQ entry or a template instead; ``/close`` closes the
ticket and asks the member for a rating. Everything else of the team chat stays there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.desk import ANSWERED, CLOSED, OPEN, RESOLVED, DeskTicket
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.services.desk import views
from bot.services.desk.clock import DeskClock
from bot.services.desk.dto import TeamMessage
from bot.services.desk.service import DeskService
from bot.services.dto import Origin, Person
from bot.services.messenger import Call, Messenger
from bot.services.team import TeamService
from sop.engine import SopEngine

ANSWER_USAGE = "/answer KEY — reply to a member's message or write in their topic"
CLOSE_USAGE = "/close — reply to a member's message or write in their topic"
#: tickets listed by /tickets
MOST_LISTED = 30


def is_overdue(ticket: DeskTicket, now: datetime) -> bool:
    """An open ticket past its first-response deadline (``/tickets`` lists these first)."""
    return ticket.status == OPEN and ticket.deadline is not None and ticket.deadline <= now


def waiting_minutes(ticket: DeskTicket, now: datetime) -> int | None:
    """How long an open ticket's member has waited for the team, in whole minutes."""
    if ticket.waiting_since is None or ticket.status != OPEN:
        return None
    return int((now - ticket.waiting_since).total_seconds() // 60)


class DeskTeam:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        desk: DeskService,
        team: TeamService,
    ) -> None:
        self._session = session
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._desk = desk
        self._repo = desk.repo
        self._clock: DeskClock = desk.clock
        self._team = team

    async def ticket_of(self, message: TeamMessage) -> DeskTicket | None:
        """The member's ticket a team chat message answers, or ``None`` (a reply to something
        else, a message outside any member's topic)."""
        user_id: int | None = None
        if message.reply_to_bot_message is not None:
            relay = await self._repo.relay(message.chat_id, message.reply_to_bot_message)
            if relay is not None and relay.kind == "digest":  # "#N …" names the conversation
                named = await self._repo.get(message.hint) if message.hint else None
                return None if named is None else await self._repo.latest(named.user_id)
            if relay is not None:
                user_id = relay.user_id
        if user_id is None and message.thread_id is not None:
            user_id = await self._repo.topic_user(message.chat_id, message.thread_id)
        return None if user_id is None else await self._repo.latest(user_id)

    async def on_message(self, message: TeamMessage, now: datetime) -> str:
        """An operator's message in the team chat: ``answered`` (copied to the member),
        ``note`` (``!…``: stays with the team) or ``none`` (it answers nobody)."""
        ticket = await self.ticket_of(message)
        if ticket is None:
            return "none"
        if message.is_note:
            return "note"
        await self._intro(ticket, message.person, now)
        payload: dict[str, Any] = {
            "from_chat_id": message.chat_id,
            "message_id": message.message_id,
            "_desk": self._answer_ref(ticket, message),
        }
        method = "copyMessage"
        if await self._via_digest(message):  # without the "#N" that named the conversation
            if message.is_text:
                if not message.rest.strip():
                    return "none"
                method, payload = "sendMessage", {"text": message.rest, "_desk": payload["_desk"]}
            else:
                payload["caption"] = message.rest
        await self._messenger.call(
            Call(
                f"desk:answer:{message.chat_id}:{message.message_id}",
                ticket.user_id,
                ChatKind.PRIVATE,
                Purpose.DESK_ANSWER,
                method,
                payload,
            ),
            now,
            lane=SERVICE_LANE,
        )
        self._answered(ticket, message.person.id, now)
        return "answered"

    async def answer(
        self, origin: Origin, message: TeamMessage, key: str | None, now: datetime
    ) -> None:
        """``/answer KEY``: FAQ entry number KEY or template KEY to the member."""
        ticket = await self.ticket_of(message)
        if ticket is None or not key:
            await self._team.answer_usage(origin, message.person, ANSWER_USAGE, now)
            return
        member = await self._session.get(Member, ticket.user_id)
        locale = self._messenger.renderer.locale_for(member.language_code if member else None)
        template, context = self._canned(key, member)
        if template is None:
            await self._team.reply(
                origin, message.person, "desk_answer_unknown", {"key": key[:40]}, now
            )
            return
        await self._intro(ticket, message.person, now)
        await self._messenger.send(
            key=f"desk:canned:{message.chat_id}:{message.message_id}",
            chat_id=ticket.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.DESK_ANSWER,
            template=template,
            locale=locale,
            context=context,
            now=now,
            lane=SERVICE_LANE,
            extra={"_desk": self._answer_ref(ticket, message)},
        )
        self._answered(ticket, message.person.id, now)
        await self._team.reply(origin, message.person, "desk_answer_sent", {"key": key[:40]}, now)

    async def close(self, origin: Origin, message: TeamMessage, now: datetime) -> None:
        """``/close``: the ticket is resolved; its member is asked for a rating (once)."""
        ticket = await self.ticket_of(message)
        if ticket is None:
            await self._team.answer_usage(origin, message.person, CLOSE_USAGE, now)
            return
        if ticket.status == CLOSED:
            await self._team.reply(
                origin, message.person, "desk_closed", {"ticket": ticket.id, "before": True}, now
            )
            return
        ticket.status, ticket.closed_at, ticket.close_reason = CLOSED, now, RESOLVED
        ticket.deadline = None
        if ticket.claimed_by is None:
            ticket.claimed_by = message.person.id
        if ticket.rating is None:
            member = await self._session.get(Member, ticket.user_id)
            await self._messenger.send(
                key=f"desk:rate:{ticket.id}:{ticket.reopened}",
                chat_id=ticket.user_id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.DESK_RATE,
                template="desk_rate",
                locale=self._messenger.renderer.locale_for(
                    member.language_code if member else None
                ),
                context={},
                now=now,
                lane=SERVICE_LANE,
                reply_markup=views.rating_buttons(ticket),
            )
        await self._team.reply(
            origin, message.person, "desk_closed", {"ticket": ticket.id, "before": False}, now
        )

    async def claim(self, ticket_id: int, operator: Person, now: datetime) -> str:
        """The claim button: the first operator to press owns the ticket."""
        ticket = await self._repo.get(ticket_id)
        if ticket is None:
            return "button_expired"
        if ticket.claimed_by is None:
            ticket.claimed_by = operator.id
            return "desk_claimed"
        return "desk_claimed" if ticket.claimed_by == operator.id else "desk_claimed_other"

    async def tickets(self, origin: Origin, person: Person, now: datetime) -> None:
        """``/tickets``: open (overdue first), then claimed, by operator."""
        rows = await self._repo.not_closed(MOST_LISTED)
        total = await self._repo.count_not_closed()
        members = {
            m.user_id: m
            for m in [await self._session.get(Member, t.user_id) for t in rows]
            if m is not None
        }
        listed: list[dict[str, Any]] = []
        for t in rows:
            listed.append(
                {
                    "id": t.id,
                    "who": views.short_name(members.get(t.user_id), t.user_id),
                    "status": t.status,
                    "overdue": is_overdue(t, now),
                    "waiting_minutes": waiting_minutes(t, now),
                    "claimed_by": t.claimed_by,
                    "role": t.role,
                }
            )
        listed.sort(key=lambda t: (not t["overdue"], t["status"] != OPEN, t["id"]))
        by_operator: dict[str, list[int]] = {}
        for entry in listed:
            if entry["claimed_by"] is not None:
                by_operator.setdefault(str(entry["claimed_by"]), []).append(entry["id"])
        await self._team.reply(
            origin,
            person,
            "desk_tickets",
            {
                "tickets": listed,
                "total": total,
                "more": max(0, total - len(listed)),
                "overdue": sum(1 for t in listed if t["overdue"]),
                "by_operator": by_operator,
            },
            now,
        )

    # -- internals --------------------------------------------------------------------------
    async def _via_digest(self, message: TeamMessage) -> bool:
        if message.reply_to_bot_message is None:
            return False
        relay = await self._repo.relay(message.chat_id, message.reply_to_bot_message)
        return relay is not None and relay.kind == "digest"

    def _answered(self, ticket: DeskTicket, operator_id: int, now: datetime) -> None:
        if ticket.first_response_at is None and ticket.waiting_since is not None:
            waited = self._clock.waited(ticket.waiting_since, now)
            ticket.first_response_at = now
            ticket.first_response_seconds = int(waited.total_seconds())
            ticket.within_sla = waited <= self._clock.within
        ticket.status, ticket.answered_at, ticket.deadline = ANSWERED, now, None
        ticket.closed_at, ticket.close_reason, ticket.automatic = None, None, False
        if ticket.claimed_by is None:
            ticket.claimed_by = operator_id

    def _answer_ref(self, ticket: DeskTicket, message: TeamMessage) -> dict[str, Any]:
        """What the delivery hook needs to say "not delivered" where the operator wrote."""
        return {
            "ticket": ticket.id,
            "user": ticket.user_id,
            "kind": "answer",
            "team_chat": message.chat_id,
            "team_message": message.message_id,
            "thread": message.thread_id,
        }

    async def _intro(self, ticket: DeskTicket, operator: Person, now: datetime) -> None:
        """``service.operator_names``: the member learns who answers them, once per operator
        and ticket (the copy itself comes from the bot)."""
        if not self._config.service.operator_names:
            return
        member = await self._session.get(Member, ticket.user_id)
        await self._messenger.send(
            key=f"desk:intro:{ticket.id}:{ticket.reopened}:{operator.id}",
            chat_id=ticket.user_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.DESK_ANSWER,
            template="desk_operator_intro",
            locale=self._messenger.renderer.locale_for(member.language_code if member else None),
            context={"operator": operator.first_name},
            now=now,
            lane=SERVICE_LANE,
        )

    def _canned(self, key: str, member: Member | None) -> tuple[str | None, dict[str, Any]]:
        faq = self._engine.spec.faq
        if key.isdigit() and 1 <= int(key) <= len(faq):
            entry = faq[int(key) - 1]
            return "desk_canned_faq", {"question": entry.question, "answer": entry.answer}
        if self._messenger.renderer.has(key):
            return key, {"name": member.first_name if member else "", "coupon": None}
        return None, {}
