"""Operators' moderation commands, given as a reply to a member's message in a community:
``/warn [reason]``, ``/unwarn``, ``/mute DURATION``, ``/unmute``, ``/ban``, ``/unban``, ``/del``;
and ``/modlog [N]`` in private or the team chat. Each is audited by the audit middleware (they
are team commands) and recorded in ``mod_actions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.durations import DurationError, format_duration, parse_duration
from bot.config.moderation import ModerationConfig
from bot.db.repositories.moderation import ModActionRepository
from bot.services.dto import Origin, Person
from bot.services.moderation.service import ModerationService
from bot.services.team import TeamService

USAGE = {
    "warn": "/warn [reason] (as a reply)",
    "unwarn": "/unwarn (as a reply)",
    "mute": "/mute DURATION (as a reply; 30m, 2h, 1d)",
    "unmute": "/unmute (as a reply)",
    "ban": "/ban (as a reply)",
    "unban": "/unban (as a reply)",
    "del": "/del (as a reply)",
    "modlog": "/modlog [N≤50]",
}
MODLOG_DEFAULT, MODLOG_MOST = 15, 50


@dataclass(frozen=True)
class Target:
    """The member a reply command is about, and their message."""

    chat_id: int
    message_id: int
    person: Person
    #: an operator, an administrator, the bot or a channel: not to be acted on
    protected: bool = False


class ModerationConsole:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        team: TeamService,
        moderation: ModerationService,
    ) -> None:
        self._config = config
        self._team = team
        self._moderation = moderation
        self._actions = ModActionRepository(session)

    async def command(
        self,
        command: str,
        args: str,
        origin: Origin,
        operator: Person,
        target: Target | None,
        now: datetime,
    ) -> None:
        if target is None:
            await self._team.answer_usage(origin, operator, USAGE[command], now)
            return
        if target.protected:
            await self._team.reply(
                origin, operator, "mod_protected", {"name": target.person.first_name}, now
            )
            return
        moderation = self._config.moderation_for(target.chat_id) or ModerationConfig()
        chat_id, user = target.chat_id, target.person
        context: dict[str, object] = {
            "action": command,
            "name": user.first_name,
            "user_id": user.id,
        }
        if command == "warn":
            context["warnings"] = await self._moderation.warn(
                chat_id, user, "manual", moderation, now, by=operator.id
            )
            context["ban_after"] = moderation.ban_after
        elif command == "unwarn":
            if not await self._moderation.unwarn(chat_id, user.id, now, by=operator.id):
                await self._team.reply(origin, operator, "mod_no_warning", context, now)
                return
            context["warnings"] = await self._moderation.warnings(chat_id, user.id, now)
        elif command == "mute":
            try:
                length = parse_duration(args.strip()) if args.strip() else moderation.mute_for
            except DurationError:
                await self._team.answer_usage(origin, operator, USAGE["mute"], now)
                return
            until = await self._moderation.mute(
                chat_id, user.id, length, "manual", now, by=operator.id
            )
            context["length"] = format_duration(until - now)
        elif command == "unmute":
            await self._moderation.unmute(chat_id, user.id, now, by=operator.id)
        elif command == "ban":
            await self._moderation.ban(chat_id, user.id, "manual", now, by=operator.id)
        elif command == "unban":
            await self._moderation.unban(chat_id, user.id, now, by=operator.id)
        elif command == "del":
            await self._moderation.delete(chat_id, target.message_id, now)
            await self._actions.add(
                chat_id=chat_id,
                user_id=user.id,
                message_id=target.message_id,
                action="delete",
                rule="manual",
                at=now,
                by_user_id=operator.id,
            )
        await self._team.reply(origin, operator, "mod_done", context, now)

    async def modlog(self, origin: Origin, operator: Person, args: str, now: datetime) -> None:
        words = args.split()
        if len(words) > 1 or (words and not (words[0].isascii() and words[0].isdigit())):
            await self._team.answer_usage(origin, operator, USAGE["modlog"], now)
            return
        wanted = min(int(words[0]) if words else MODLOG_DEFAULT, MODLOG_MOST) or MODLOG_DEFAULT
        titles = {c.chat_id: c.title[:24] for c in self._config.communities}
        entries = [
            {
                "at": row.at.astimezone(self._config.tz).strftime("%m-%d %H:%M"),
                "action": row.action,
                "rule": row.rule,
                "user_id": row.user_id,
                "by": row.by_user_id,
                "where": titles.get(row.chat_id, str(row.chat_id)),
                "until": (
                    row.until.astimezone(self._config.tz).strftime("%m-%d %H:%M")
                    if row.until
                    else None
                ),
            }
            for row in await self._actions.latest(wanted)
        ]
        day = now.astimezone(self._config.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        today = await self._actions.counts(day, day + timedelta(days=1))
        await self._team.reply(
            origin, operator, "modlog", {"entries": entries, "today": today}, now
        )
