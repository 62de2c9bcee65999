"""What the desk's loop does in a transaction: the first-response clock (a holding reply to
the member, once, and a reminder in the team chat when the SLA runs out), reminders and digests,
autoclose of answered tickets whose member went quiet, and recording what Telegram says of the
team chat (asked by ``bot/services/desk/jobs.py:run_desk``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, format_duration
from bot.db.models import Member
from bot.db.models.desk import AUTOCLOSED, CLOSED
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.services.desk import views
from bot.services.desk.service import DeskService
from bot.services.messenger import Messenger

log = logging.getLogger(__name__)

#: the loop looks at least this often
DESK_POLL = timedelta(minutes=5)
#: at most one digest of waiting members this often, in at most DIGEST_PARTS messages of
#: DIGEST_SIZE names (a name line is under 80 characters: a part stays under Telegram's 4096)
DIGEST_EVERY = timedelta(seconds=30)
DIGEST_SIZE = 50
DIGEST_PARTS = 3
#: at most one reminder message (the conversations past their time) this often
REMIND_EVERY = timedelta(seconds=60)


class DeskJobs:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        desk: DeskService,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._desk = desk

    async def record_team_chat(self, facts: tuple[bool, bool], now: datetime) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            return
        is_forum, can_manage = facts
        state = await self._desk.repo.set_team_chat(
            team_chat, is_forum=is_forum, can_manage_topics=can_manage, now=now
        )
        if is_forum and not can_manage and state.told_at is None:
            state.told_at = now
            await self._messenger.send(
                key=f"desk:topics-refused:{team_chat}:{now.isoformat()}",
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.TEAM,
                template="desk_topics_refused",
                locale=self._messenger.renderer.default_locale,
                context={"reason": "the bot is not an administrator with can_manage_topics"},
                now=now,
                lane=SERVICE_LANE,
            )

    async def _remind(self, late: list[dict[str, object]], within: str, now: datetime) -> None:
        """The conversations past their first-response time, in one message per tick (40
        names each): the team chat's minute is not spent on one reminder each."""
        team_chat = self._config.team.chat
        if team_chat is None or not late:
            return
        for start in range(0, len(late), DIGEST_SIZE):
            part = late[start : start + DIGEST_SIZE]
            await self._messenger.send(
                key=f"desk:reminder:{part[0]['ticket']}:{int(now.timestamp())}",
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.DESK_REMINDER,
                template="desk_reminder",
                locale=self._messenger.renderer.default_locale,
                context={"entries": part, "within": within},
                now=now,
                lane=SERVICE_LANE,
                extra={"_desk": {"kind": "digest", "ticket": 0, "user": 0}},
            )

    async def _digest(self, now: datetime) -> datetime | None:
        """One message naming the members the team chat's budget holds back (their copies
        follow in their slots); returns when to look again while some wait."""
        team_chat = self._config.team.chat
        repo = self._desk.repo
        if team_chat is None:
            return None
        last = await repo.last_queued(team_chat, "desk_digest")
        if last is not None and now - last < DIGEST_EVERY:
            return last + DIGEST_EVERY
        waiting = await repo.digest_waiting(DIGEST_SIZE * DIGEST_PARTS)
        if not waiting:
            return None
        entries: list[dict[str, object]] = []
        for ticket in waiting:
            member = await self._session.get(Member, ticket.user_id)
            ticket.digest_state = "listed"
            entries.append(
                {
                    "ticket": ticket.id,
                    "who": views.short_name(member, ticket.user_id),
                    "id": ticket.user_id,
                    "link": f"tg://user?id={ticket.user_id}",
                    "since": (ticket.waiting_since or ticket.opened_at)
                    .astimezone(self._config.tz)
                    .strftime("%H:%M:%S"),
                    "role": ticket.role,
                }
            )
        for start in range(0, len(entries), DIGEST_SIZE):
            part = entries[start : start + DIGEST_SIZE]
            await self._messenger.send(
                key=f"desk:digest:{part[0]['ticket']}:{int(now.timestamp())}",
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.DESK_DIGEST,
                template="desk_digest",
                locale=self._messenger.renderer.default_locale,
                context={"entries": part},
                now=now,
                lane=SERVICE_LANE,
                extra={"_desk": {"kind": "digest", "ticket": 0, "user": 0}},
            )
        return now + DIGEST_EVERY

    async def tick(self, now: datetime) -> datetime:
        """Carries out what is due; returns when to look again."""
        repo = self._desk.repo
        within = format_duration(self._desk.clock.within)
        late: list[dict[str, object]] = []
        team_chat = self._config.team.chat
        last = None if team_chat is None else await repo.last_queued(team_chat, "desk_reminder")
        remind = last is None or now - last >= REMIND_EVERY
        for ticket in await repo.overdue(now):
            member = await self._session.get(Member, ticket.user_id)
            locale = self._messenger.renderer.locale_for(member.language_code if member else None)
            if not ticket.holding_sent:
                ticket.holding_sent = True
                await self._messenger.send(
                    key=f"desk:holding:{ticket.id}",
                    chat_id=ticket.user_id,
                    chat_kind=ChatKind.PRIVATE,
                    purpose=Purpose.DESK_AUTO,
                    template="desk_holding",
                    locale=locale,
                    context={"within": within},
                    now=now,
                    lane=SERVICE_LANE,
                )
            if not ticket.reminded and remind:
                ticket.reminded = True
                waited = int((now - (ticket.waiting_since or ticket.opened_at)).total_seconds())
                late.append(
                    {
                        "ticket": ticket.id,
                        "who": views.short_name(member, ticket.user_id),
                        "id": ticket.user_id,
                        "link": f"tg://user?id={ticket.user_id}",
                        "waited_minutes": waited // 60,
                        "role": ticket.role,
                    }
                )
        await self._remind(late, within, now)
        remind_wake = None if remind or last is None else last + REMIND_EVERY
        digest_wake = await self._digest(now)
        autoclose = self._config.service.autoclose
        for ticket in await repo.silent_answered(now, autoclose):
            if ticket.last_member_at <= (ticket.answered_at or now):
                ticket.status, ticket.closed_at, ticket.close_reason = CLOSED, now, AUTOCLOSED
        wake = [now + DESK_POLL]
        wake += [t for t in (digest_wake, remind_wake) if t is not None]
        for at in (await repo.next_deadline(), await repo.next_autoclose(autoclose)):
            if at is not None:
                wake.append(max(at, now + timedelta(seconds=1)))
        return min(wake)
