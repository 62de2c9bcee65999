"""Where a member's messages go in the team chat, and how much of the team chat they may use.

A plain team chat: a conversation's first message (and the first after a reopen) is preceded by
the member's card; every message is copied (``copyMessage``, media included) with a button
naming who wrote it. Operators answer by replying to any of them.

A forum team chat where the bot may manage topics: each member has one topic (created once with
``createForumTopic``, then reused); the relays go into it. Until Telegram has made the topic the
member's relays wait (held in the outbox); if it refuses, they go to the general chat instead
and the team is told once what right the bot lacks.

The team chat is one group for Telegram: 20 messages a minute, shared with alerts, reports and
escalations. The desk takes at most one message per :data:`SLOT` (17 a minute, leaving the rest
to the others): each relay is given the next free slot as its due time, so the outbox never
holds a burst for the team chat that would push a later, more urgent message back.

- A relay is copied only while its member's ticket stays under :data:`RELAY_BURST` copies per
  :data:`RELAY_WINDOW` (a member flooding the bot costs the team a handful of messages and a
  count, not a flood).
- The card goes only when the desk's slots are free now (under load each copy's button still
  says who wrote).
- A conversation whose first copy cannot go within :data:`DIGEST_AFTER` (30 s: the rest of the
  minute is the margin for reports and alerts sharing the chat) is marked for the
  digest: within a minute one message names everyone waiting (``desk_digest``); replying to it
  with ``#N …`` answers conversation N at once. Their copies still come, in their slots: nothing
  is lost, and each can then be answered by reply like any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member, OutboxMessage
from bot.db.models.desk import DeskTicket
from bot.db.models.outbox import SERVICE_LANE, ChatKind, OutboxStatus, Purpose
from bot.db.repositories.desk import DeskRepository
from bot.services.desk import views
from bot.services.messenger import Call, Messenger

#: the lane of relays waiting for their member's topic (not due until it is made; then moved
#: to the service lane): they take no slot of the team chat meanwhile
HELD_LANE = -1
#: copies per ticket per window; the rest are counted and said in one line
RELAY_BURST = 5
RELAY_WINDOW = timedelta(minutes=1)
#: the desk's share of the team chat: one message per slot (17 of Telegram's 20 a minute)
SLOT = timedelta(seconds=61 / 17)
#: a conversation whose first copy cannot go sooner than this is named in the next digest
DIGEST_AFTER = timedelta(seconds=30)
#: relays waiting for their member's topic are held this long at most (then sent without it)
TOPIC_WAIT = timedelta(minutes=2)


def relay_key(user_id: int, what: str) -> str:
    """Every desk row for the team chat about one member starts ``desk:<user>:`` (the topic's
    creation releases them by it)."""
    return f"desk:{user_id}:{what}"


class DeskRouting:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        repo: DeskRepository,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._repo = repo

    async def relay(
        self,
        ticket: DeskTicket,
        member: Member | None,
        message_id: int,
        *,
        with_card: bool,
        now: datetime,
    ) -> bool:
        """Queues the member's message for the team chat (and the card before it); ``False``
        when it was left out (the flood bound)."""
        team_chat = self._config.team.chat
        if team_chat is None:
            return False
        if ticket.relay_window_at is None or now - ticket.relay_window_at >= RELAY_WINDOW:
            ticket.relay_window_at, ticket.relay_window_count = now, 0
        if ticket.relay_window_count >= RELAY_BURST:
            ticket.unrelayed += 1
            return False
        ticket.relay_window_count += 1
        await self._repo.lock_team_chat(team_chat, now)  # slots are given one at a time
        thread_id, held_until = await self._target(team_chat, ticket.user_id, member, now)
        slot = await self._next_slot(team_chat, now)
        if with_card and slot - now >= DIGEST_AFTER and ticket.digest_state is None:
            ticket.digest_state = "waiting"  # the team hears of them in the next digest
        due_at = slot if held_until is None else held_until
        lane = SERVICE_LANE if held_until is None else HELD_LANE
        locale = self._messenger.renderer.default_locale
        label = self._messenger.label("desk_claim_button", locale, fallback="🙋")
        where: dict[str, Any] = {} if thread_id is None else {"message_thread_id": thread_id}
        if with_card and slot <= now:
            await self._messenger.send(
                key=relay_key(ticket.user_id, f"card:{ticket.id}.{ticket.reopened}.{message_id}"),
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.DESK_CARD,
                template="desk_card",
                locale=locale,
                context=await views.card(self._session, ticket, member, now, self._config.tz),
                now=now,
                due_at=due_at,
                lane=lane,
                reply_markup=views.claim_button(ticket, member, label),
                extra={
                    **where,
                    "_desk": {"ticket": ticket.id, "user": ticket.user_id, "kind": "card"},
                },
            )
            # the copy goes with it, and the next relay's slot is two slots on
        payload: dict[str, Any] = {
            "from_chat_id": ticket.user_id,
            "message_id": message_id,
            "reply_markup": views.claim_button(ticket, member, label),
            "_desk": {"ticket": ticket.id, "user": ticket.user_id, "kind": "copy"},
        }
        if thread_id is not None:
            payload["message_thread_id"] = thread_id
        key = relay_key(ticket.user_id, f"copy:{message_id}")
        await self._messenger.call(
            Call(key, team_chat, ChatKind.GROUP, Purpose.DESK_RELAY, "copyMessage", payload),
            now,
            lane=lane,
            due_at=due_at,
        )
        return True

    async def thread_of(self, user_id: int) -> int | None:
        topic = await self._repo.topic(user_id)
        return topic.thread_id if topic is not None and topic.state == "ready" else None

    async def _target(
        self, team_chat: int, user_id: int, member: Member | None, now: datetime
    ) -> tuple[int | None, datetime | None]:
        """The member's topic (``None``: the chat itself) and, while it is being made, how
        long the relay waits for it."""
        state = await self._repo.team_chat(team_chat)
        if state is None or not (state.is_forum and state.can_manage_topics):
            return None, None
        topic = await self._repo.topic(user_id)
        if topic is not None:
            if topic.state == "ready":
                return topic.thread_id, None
            if topic.state == "creating":
                return None, now + TOPIC_WAIT
            return None, None  # refused: the general chat
        if await self._repo.claim_topic(user_id, team_chat, now):
            name = views.short_name(member, user_id)
            await self._messenger.call(
                Call(
                    f"desk:topic:{user_id}",
                    team_chat,
                    ChatKind.GROUP,
                    Purpose.DESK_TOPIC,
                    "createForumTopic",
                    {"name": f"{name} · {user_id}"[:128], "_desk": {"user": user_id}},
                ),
                now,
                lane=SERVICE_LANE,
            )
        return None, now + TOPIC_WAIT

    async def _next_slot(self, team_chat: int, now: datetime) -> datetime:
        """When the desk's next message for the team chat may go: as many slots after the
        last taken time as messages took it (a card and its copy go together); the copies
        waiting for a topic are in their own lane, not counted."""
        last = (
            await self._session.execute(
                select(OutboxMessage.due_at, func.count())
                .where(  # sent or not: a slot taken is taken
                    OutboxMessage.chat_id == team_chat,
                    OutboxMessage.due_at > now - RELAY_WINDOW,
                    OutboxMessage.lane == SERVICE_LANE,
                    OutboxMessage.purpose.in_((Purpose.DESK_RELAY, Purpose.DESK_CARD)),
                )
                .group_by(OutboxMessage.due_at)
                .order_by(OutboxMessage.due_at.desc())
                .limit(1)
            )
        ).first()
        if last is None:
            return now
        free = last[0] + SLOT * int(last[1])
        return now if free <= now else free


async def release_held(
    session: AsyncSession, team_chat: int, user_id: int, thread_id: int | None, now: datetime
) -> int:
    """The member's topic is made (``thread_id``) or refused (``None``): the relays that
    waited for it go now, into it."""
    rows = (
        (
            await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == team_chat,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.key.like(relay_key(user_id, "%")),
                )
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        if thread_id is not None:
            row.payload = {**row.payload, "message_thread_id": thread_id}
    if rows:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]), OutboxMessage.lane == HELD_LANE)
            .values(due_at=now, lane=SERVICE_LANE)
        )
    return len(rows)
