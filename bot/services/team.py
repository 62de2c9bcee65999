"""Team commands: answers for operators, a short refusal for everyone else.

Every answer goes through here, so :attr:`TeamService.outcome` tells the audit log
(``handlers/audit.py``) what came of the command: ``ok``, ``usage``, ``refused``, ``elsewhere``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger


class TeamService:
    def __init__(self, messenger: Messenger) -> None:
        self._messenger = messenger
        #: what the command was answered with (read by the audit log); ``None`` until answered
        self.outcome: str | None = None

    async def answer_usage(self, origin: Origin, person: Person, usage: str,
                           now: datetime) -> None:
        """A one-line reply saying how the command is written."""
        self.outcome = "usage"
        await self._reply(origin, person, "usage", {"usage": usage}, now)

    async def answer_unknown(self, origin: Origin, person: Person, command: str, given: str,
                             choices: Sequence[str], now: datetime) -> None:
        """``/command given`` where ``given`` is not one of ``choices``: one line listing them
        (audited as a usage error)."""
        self.outcome = "usage"
        await self._reply(origin, person, "unknown_subcommand",
                          {"command": command, "given": given[:40], "choices": list(choices)}, now)

    async def answer_error(self, origin: Origin, person: Person, command: str,
                           now: datetime) -> None:
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
        """No figures, no hint of what the command would show."""
        self.outcome = "refused"
        await self._reply(origin, person, "refusal", {}, now)

    async def reply(self, origin: Origin, person: Person, template: str,
                    context: dict[str, object], now: datetime, *, part: int = 0) -> None:
        """Answers a team command with ``template`` where it was asked; ``part`` numbers the
        further messages of a long answer (each is its own outbox row)."""
        if self.outcome is None:
            # the commands' own "unknown subcommand" answers (kpi_unknown…) are usage errors
            self.outcome = "usage" if template.endswith("_unknown") else "ok"
        await self._reply(origin, person, template, context, now, part=part)

    async def _reply(self, origin: Origin, person: Person, template: str, context: dict[str, object],
                     now: datetime, *, part: int = 0) -> None:
        locale = self._messenger.renderer.locale_for(person.language_code)
        key = f"reply:{origin.update_id}" if not part else f"reply:{origin.update_id}:{part}"
        await self._messenger.send(
            key=key, chat_id=origin.chat_id, chat_kind=origin.chat_kind,
            purpose="reply", template=template, locale=locale, context=context, now=now,
            reply_to=origin.message_id if origin.chat_kind != "private" else None)
