"""What the delivery of a desk message means, in the transaction that settles it.

- A card, copy or note delivered to the team chat is a relay: replying to it answers the
  member (its message id is only known now).
- A member's topic made: the relays that waited for it go into it; refused (not a forum, no
  ``can_manage_topics``): they go to the general chat, and the team is told once what to fix.
- An answer the member cannot receive (they blocked the bot): "not delivered" under the
  operator's message, and the ticket closes as undeliverable.
- A member's message Telegram cannot copy: the team sees a note, the member is asked to resend.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member, OutboxMessage
from bot.db.models.desk import CLOSED, UNDELIVERABLE
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories.desk import DeskRepository
from bot.services.desk import views
from bot.services.desk.routing import relay_key, release_held
from bot.services.messenger import Messenger
from bot.services.welcome.service import ConfigHolderLike

log = logging.getLogger(__name__)

RELAYS = (
    Purpose.DESK_CARD,
    Purpose.DESK_RELAY,
    Purpose.DESK_NOTE,
    Purpose.DESK_DIGEST,
    Purpose.DESK_REMINDER,
)
#: Telegram's words for a message that cannot be copied
UNCOPYABLE = ("can't be copied", "message to copy not found")


def _ref(row: OutboxMessage) -> dict[str, Any] | None:
    ref = row.payload.get("_desk")
    return ref if isinstance(ref, dict) else None


class DeskDeliveryHook:
    def __init__(self, holder: ConfigHolderLike) -> None:
        self._holder = holder

    def _messenger(self, session: AsyncSession) -> Messenger:
        loaded = self._holder.loaded
        return Messenger(session, loaded.renderer, loaded.config)

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        ref = _ref(row)
        if ref is None:
            return
        repo = DeskRepository(session)
        if row.purpose in RELAYS and row.message_id is not None and "ticket" in ref:
            await repo.add_relay(
                row.chat_id,
                row.message_id,
                int(ref["ticket"]),
                int(ref["user"]),
                str(ref["kind"]),
                now,
            )
        elif row.purpose == Purpose.DESK_TOPIC and row.message_id is not None:
            user_id = int(ref["user"])
            await repo.set_topic(user_id, row.message_id, "ready")
            await release_held(session, row.chat_id, user_id, row.message_id, now)

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        ref = _ref(row)
        if ref is None or row.purpose != Purpose.DESK_ANSWER:
            return
        ticket = await DeskRepository(session).get(int(ref["ticket"]))
        if ticket is not None and ticket.status != CLOSED:
            ticket.status, ticket.closed_at, ticket.close_reason = CLOSED, now, UNDELIVERABLE
            ticket.deadline = None
        await self._not_delivered(session, row, ref, "blocked", now)

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        ref = _ref(row)
        if ref is None:
            return
        reason = row.last_error or ""
        if row.purpose == Purpose.DESK_ANSWER:
            uncopyable = any(marker in reason for marker in UNCOPYABLE)
            await self._not_delivered(
                session, row, ref, "uncopyable" if uncopyable else reason, now
            )
        elif row.purpose == Purpose.DESK_RELAY:
            await self._relay_failed(session, row, ref, reason, now)
        elif row.purpose == Purpose.DESK_TOPIC:
            await self._topic_refused(session, row, int(ref["user"]), reason, now)

    async def _not_delivered(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        ref: dict[str, Any],
        why: str,
        now: datetime,
    ) -> None:
        messenger = self._messenger(session)
        thread = ref.get("thread")
        await messenger.send(
            key=f"desk:undelivered:{row.id}",
            chat_id=int(ref["team_chat"]),
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.DESK_NOTE,
            template="desk_not_delivered",
            locale=messenger.renderer.default_locale,
            context={"why": why[:200], "ticket": ref.get("ticket")},
            now=now,
            reply_to=int(ref["team_message"]),
            lane=SERVICE_LANE,
            extra=None if thread is None else {"message_thread_id": int(thread)},
        )

    async def _relay_failed(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        ref: dict[str, Any],
        reason: str,
        now: datetime,
    ) -> None:
        user_id = int(ref["user"])
        messenger = self._messenger(session)
        member = await session.get(Member, user_id)
        uncopyable = any(marker in reason for marker in UNCOPYABLE)
        thread = row.payload.get("message_thread_id")
        await messenger.send(
            key=relay_key(user_id, f"uncopied:{row.id}"),
            chat_id=row.chat_id,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.DESK_NOTE,
            template="desk_uncopyable",
            locale=messenger.renderer.default_locale,
            context={
                "who": views.short_name(member, user_id),
                "id": user_id,
                "link": f"tg://user?id={user_id}",
                "ticket": ref.get("ticket"),
                "reason": "uncopyable" if uncopyable else reason[:200],
            },
            now=now,
            lane=SERVICE_LANE,
            extra={
                "_desk": {"ticket": ref.get("ticket"), "user": user_id, "kind": "note"},
                **({} if thread is None else {"message_thread_id": thread}),
            },
        )
        if uncopyable:
            await messenger.send(
                key=f"desk:resend:{row.id}",
                chat_id=user_id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.DESK_AUTO,
                template="desk_resend",
                locale=messenger.renderer.locale_for(member.language_code if member else None),
                context={},
                now=now,
                lane=SERVICE_LANE,
            )

    async def _topic_refused(
        self, session: AsyncSession, row: OutboxMessage, user_id: int, reason: str, now: datetime
    ) -> None:
        repo = DeskRepository(session)
        await repo.set_topic(user_id, None, "refused")
        await release_held(session, row.chat_id, user_id, None, now)
        state = await repo.team_chat(row.chat_id)
        lower = reason.lower()
        not_forum = "not a forum" in lower
        no_rights = "rights" in lower or "not enough" in lower
        if state is not None and (not_forum or no_rights):
            await repo.set_team_chat(
                row.chat_id,
                is_forum=state.is_forum and not not_forum,
                can_manage_topics=state.can_manage_topics and not no_rights,
                now=now,
            )
            state = await repo.team_chat(row.chat_id)
        if state is not None and state.told_at is None:
            state.told_at = now
            messenger = self._messenger(session)
            await messenger.send(
                key=f"desk:topics-refused:{row.chat_id}:{row.id}",
                chat_id=row.chat_id,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.TEAM,
                template="desk_topics_refused",
                locale=messenger.renderer.default_locale,
                context={"reason": reason[:200]},
                now=now,
                lane=SERVICE_LANE,
            )
        log.warning("the member topic of %d was refused: %s", user_id, reason)
