"""The audit log: who asked which team command, where, when, and what came of it; ``/audit``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from bot.config import CommunityConfig
from bot.db.models import AuditEntry
from bot.db.models.audit import ERROR, OK, REFUSED, USAGE
from bot.db.models.outbox import ChatKind
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.pseudonyms import rename
from bot.services.commerce.coupons import normalize_code
from bot.services.dto import Origin, Person
from bot.services.team import TeamService

#: no handler took the command (a chat the bot does not serve)
IGNORED = "ignored"
__all__ = ["ERROR", "IGNORED", "OK", "REFUSED", "USAGE", "AuditService", "CommandCall"]

#: ``/audit`` shows this many entries unless told otherwise, and never more than ``MOST``
DEFAULT_ENTRIES, MOST_ENTRIES = 20, 100
#: entries per message of the ``/audit`` answer (a message holds 4,096 characters)
PER_MESSAGE = 25
#: commands whose arguments are secrets (a coupon code redeems once): only a hint is kept
SECRET_ARGS = frozenset({"redeem"})
ARGS_KEPT = 120
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)
_SECRET_KEY = re.compile(r"(?i)\b(token|secret|password|passwd|key|signature)=\S+")
_LONG_TOKEN = re.compile(r"\b(?=[A-Za-z_\-+/=]*\d)[A-Za-z0-9_\-+/=]{24,}")


@dataclass(frozen=True)
class CommandCall:
    """A team command as the audit log keeps it."""

    command: str
    args: str
    mention: str | None
    origin: Origin
    person: Person


def read_command(text: str | None) -> tuple[str, str | None, str] | None:
    """``"/kpi@bot 7d"`` → ``("kpi", "bot", "7d")``; ``None`` when the text is no command."""
    match = _COMMAND.match((text or "").strip())
    if match is None:
        return None
    return match.group(1).lower(), match.group(2), (match.group(3) or "").strip()


def safe_args(command: str, args: str) -> str:
    """The arguments as the log may keep them: on one line, shortened, secrets masked (coupon
    codes, anything that looks like a token or a ``key=value`` secret)."""
    text = " ".join(args.split())
    if command in SECRET_ARGS and text:
        return text[:4] + "…"
    text = _SECRET_KEY.sub(lambda m: f"{m.group(1)}=…", text)
    text = _LONG_TOKEN.sub(lambda m: m.group(0)[:4] + "…", text)
    words = text.split(" ")
    masked, i = [], 0
    while i < len(words):  # a coupon code, possibly typed with spaces between its groups
        for span in (3, 1):
            if normalize_code(" ".join(words[i : i + span])) is not None:
                masked.append(words[i][:4] + "…")
                i += span
                break
        else:
            masked.append(words[i])
            i += 1
    text = " ".join(masked)
    return text if len(text) <= ARGS_KEPT else text[: ARGS_KEPT - 1] + "…"


def display_name(person: Person) -> str:
    name = person.first_name.strip() or "?"
    return f"{name} (@{person.username})" if person.username else name


class AuditService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config
        self._log = AuditRepository(session)

    def savepoint(self) -> AsyncSessionTransaction:
        """A savepoint in the update's transaction: a failing command is rolled back to it, and
        its audit entry is still written in the same transaction."""
        return self._session.begin_nested()

    async def record(
        self,
        call: CommandCall,
        result: str,
        now: datetime,
        renamed: Mapping[int, int] | None = None,
    ) -> None:
        """The command's entry; ``renamed``: ids it erased, named by their pseudonyms."""
        args = safe_args(call.command, call.args)
        for real, pseudonym in (renamed or {}).items():
            args = rename(args, real, pseudonym)
        await self._log.add(
            update_id=call.origin.update_id,
            at=now,
            user_id=call.person.id,
            user_name=display_name(call.person),
            chat_id=call.origin.chat_id,
            chat_kind=call.origin.chat_kind,
            command=call.command,
            args=args,
            result=result,
        )

    async def answer(
        self, team: TeamService, origin: Origin, person: Person, args: str | None, now: datetime
    ) -> None:
        """``/audit [N]``: the last N entries (default 20, at most 100), newest first."""
        words = (args or "").split()
        if len(words) > 1 or (
            words
            and not (words[0].isascii() and words[0].isdigit() and 0 < int(words[0]) <= 10_000)
        ):
            await team.answer_usage(origin, person, f"/audit [N≤{MOST_ENTRIES}]", now)
            return
        wanted = min(int(words[0]) if words else DEFAULT_ENTRIES, MOST_ENTRIES)
        entries = [self._line(entry) for entry in await self._log.latest(wanted)]
        if not entries:
            await team.reply(origin, person, "audit", {"entries": [], "shown": 0, "part": 0}, now)
            return
        for part, start in enumerate(range(0, len(entries), PER_MESSAGE)):
            await team.reply(
                origin,
                person,
                "audit",
                {
                    "entries": entries[start : start + PER_MESSAGE],
                    "shown": len(entries),
                    "part": part,
                },
                now,
                part=part,
            )

    def _line(self, entry: AuditEntry) -> dict[str, Any]:
        return {
            "at": entry.at.astimezone(self._config.tz).strftime("%m-%d %H:%M"),
            "who": entry.user_name[:32],
            "user_id": entry.user_id,
            "where": self.where(entry.chat_id, entry.chat_kind),
            "command": entry.command,
            "args": entry.args[:60],
            "result": entry.result,
        }

    def where(self, chat_id: int, chat_kind: str) -> str:
        """Where a command was asked, as the log shows it: DM, team, a community's title."""
        if chat_kind == ChatKind.PRIVATE:
            return "DM"
        if chat_id == self._config.team.chat:
            return "team"
        for community in self._config.communities:
            if community.chat_id == chat_id:
                return community.title[:24]
        return str(chat_id)
