"""Team commands: answers for operators, a short refusal for everyone else.

Every answer goes through here, so :attr:`TeamService.outcome` tells the audit log
(``handlers/audit.py``) what came of the command: ``ok``, ``usage``, ``refused``, ``elsewhere``.

A refusal in a community is rationed: at most one notice per member per hour
(:data:`REFUSAL_NOTICE_EVERY`, kept in the database), by DM when the member can be messaged,
else in the group; further team commands there are refused in silence, so one member cannot
spend the group's 20 messages a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository
from bot.db.repositories.refusals import RefusalNoticeRepository
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger

#: a member refused in a community is told at most this often (the rest are ignored)
REFUSAL_NOTICE_EVERY = timedelta(hours=1)


class TeamService:
    def __init__(self, session: AsyncSession, messenger: Messenger) -> None:
        self._messenger = messenger
        self._members = MemberRepository(session)
        self._notices = RefusalNoticeRepository(session)
        #: what the command was answered with (read by the audit log); ``None`` until answered
        self.outcome: str | None = None
        #: ids the command replaced by a pseudonym (an erasure): its audit entry names the
        #: pseudonym, not the id
        self.renamed: dict[int, int] = {}

    async def answer_usage(self, origin: Origin, person: Person, usage: str, now: datetime) -> None:
        """A one-line reply saying how the command is written."""
        self.outcome = "usage"
        await self._reply(origin, person, "usage", {"usage": usage}, now)

    async def answer_unknown(
        self,
        origin: Origin,
        person: Person,
        command: str,
        given: str,
        choices: Sequence[str],
        now: datetime,
    ) -> None:
        """``/command given`` where ``given`` is not one of ``choices``: one line listing them
        (audited as a usage error)."""
        self.outcome = "usage"
        await self._reply(
            origin,
            person,
            "unknown_subcommand",
            {"command": command, "given": given[:40], "choices": list(choices)},
            now,
        )

    async def answer_error(
        self, origin: Origin, person: Person, command: str, now: datetime
    ) -> None:
        """The command failed unexpectedly (logged, its effects rolled back)."""
        self.outcome = "error"
        await self._reply(origin, person, "team_error", {"command": command}, now)

    async def answer_help(self, origin: Origin, person: Person, now: datetime) -> None:
        await self._reply(origin, person, "team_help", {}, now)

    async def answer_elsewhere(self, origin: Origin, person: Person, now: datetime) -> None:
        """An operator asked in a community: point to the private or team chat, no figures."""
        self.outcome = "elsewhere"
        await self._reply(origin, person, "team_elsewhere", {}, now)

    async def refuse(self, origin: Origin, person: Person, now: datetime) -> None:
        """No figures, no hint of what the command would show. In private, always; in a
        community, once per member per hour — by DM when they can be messaged, else in the
        group — and nothing the rest of the hour (still ``refused`` in the audit log)."""
        self.outcome = "refused"
        if origin.chat_kind == ChatKind.PRIVATE:
            await self._reply(origin, person, "refusal", {}, now)
            return
        if not await self._notices.claim(person.id, now, REFUSAL_NOTICE_EVERY):
            return
        member = await self._members.get(person.id)
        if member is None or not member.reachable:
            await self._reply(origin, person, "refusal", {}, now)
            return
        await self._messenger.send(
            key=f"reply:{origin.update_id}",
            chat_id=person.id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template="refusal",
            locale=self._messenger.renderer.locale_for(person.language_code),
            context={},
            now=now,
        )

    async def reply(
        self,
        origin: Origin,
        person: Person,
        template: str,
        context: dict[str, object],
        now: datetime,
        *,
        part: int = 0,
        reply_markup: dict[str, Any] | None = None,
    ) -> None:
        """Answers a team command with ``template`` where it was asked; ``part`` numbers the
        further messages of a long answer (each is its own outbox row)."""
        if self.outcome is None:
            # the commands' own "unknown subcommand" answers (kpi_unknown…) are usage errors
            self.outcome = "usage" if template.endswith("_unknown") else "ok"
        await self._reply(
            origin, person, template, context, now, part=part, reply_markup=reply_markup
        )

    async def _reply(
        self,
        origin: Origin,
        person: Person,
        template: str,
        context: dict[str, object],
        now: datetime,
        *,
        part: int = 0,
        reply_markup: dict[str, Any] | None = None,
    ) -> None:
        locale = self._messenger.renderer.locale_for(person.language_code)
        key = f"reply:{origin.update_id}" if not part else f"reply:{origin.update_id}:{part}"
        await self._messenger.send(
            key=key,
            chat_id=origin.chat_id,
            chat_kind=origin.chat_kind,
            purpose=Purpose.REPLY,
            template=template,
            locale=locale,
            context=context,
            now=now,
            reply_to=origin.message_id if origin.chat_kind != ChatKind.PRIVATE else None,
            reply_markup=reply_markup,
        )
