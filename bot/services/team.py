"""Team commands: answers for operators, a short refusal for everyone else."""

from __future__ import annotations

from datetime import datetime

from bot.services.dto import Origin, Person
from bot.services.kpi import KpiService
from bot.services.messenger import Messenger


class TeamService:
    def __init__(self, messenger: Messenger, kpi: KpiService) -> None:
        self._messenger = messenger
        self._kpi = kpi

    async def answer_kpi(self, origin: Origin, person: Person, now: datetime) -> None:
        snapshot = await self._kpi.today(now)
        await self._reply(origin, person, "kpi", {"kpi": snapshot}, now)

    async def answer_usage(self, origin: Origin, person: Person, usage: str,
                           now: datetime) -> None:
        """A one-line reply saying how the command is written."""
        await self._reply(origin, person, "usage", {"usage": usage}, now)

    async def answer_help(self, origin: Origin, person: Person, now: datetime) -> None:
        await self._reply(origin, person, "team_help", {}, now)

    async def answer_elsewhere(self, origin: Origin, person: Person, now: datetime) -> None:
        """An operator asked in a community: point to the private or team chat, no figures."""
        await self._reply(origin, person, "team_elsewhere", {}, now)

    async def refuse(self, origin: Origin, person: Person, now: datetime) -> None:
        """No figures, no hint of what the command would show."""
        await self._reply(origin, person, "refusal", {}, now)

    async def reply(self, origin: Origin, person: Person, template: str,
                    context: dict[str, object], now: datetime) -> None:
        """Answers a team command with ``template`` where it was asked."""
        await self._reply(origin, person, template, context, now)

    async def _reply(self, origin: Origin, person: Person, template: str, context: dict[str, object],
                     now: datetime) -> None:
        locale = self._messenger.renderer.locale_for(person.language_code)
        await self._messenger.send(
            key=f"reply:{origin.update_id}", chat_id=origin.chat_id, chat_kind=origin.chat_kind,
            purpose="reply", template=template, locale=locale, context=context, now=now,
            reply_to=origin.message_id if origin.chat_kind != "private" else None)
