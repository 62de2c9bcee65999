"""Moderation of community messages: a non-moderator's message that breaks a rule is deleted
(or, in report mode, shown to the team), counted as a warning, and enough warnings mute and
then ban the sender. Every step is a row in ``mod_actions`` and an outbox call; the message's
text is never stored."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.moderation import ModerationConfig, Steps
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository, MembershipRepository
from bot.db.repositories.moderation import ModActionRepository
from bot.services.dto import Person, message_link
from bot.services.messenger import Call, Messenger
from bot.services.moderation.counters import FloodCounters, MemoryFloodCounters, noted
from bot.services.moderation.dto import MUTED, UNMUTED, CheckedMessage
from bot.services.moderation.rules import CommunityOrder
from sop.flood import Burst
from sop.moderation import Finding, has_link

log = logging.getLogger(__name__)

#: a group notice to a member the bot cannot DM goes at most this often per community (a spam
#: wave of a hundred accounts must not spend the group's 20 messages a minute)
GROUP_NOTICE_EVERY = timedelta(minutes=1)
#: the outbox purpose of a notice that deletes itself (``ModerationDeliveryHook``)
SELF_DELETING = Purpose.MOD_NOTICE
#: Telegram: a restriction of under 30 s or over 366 days is forever
LONGEST_MUTE = timedelta(days=366)


def _stamp(at: datetime) -> int:
    return int(at.timestamp())


class ModerationService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        order: CommunityOrder,
        messenger: Messenger,
        counters: FloodCounters | None = None,
    ) -> None:
        self._config = config
        self._order = order
        self._messenger = messenger
        self._counters: FloodCounters = counters if counters is not None else MemoryFloodCounters()
        self._actions = ModActionRepository(session)
        self._members = MemberRepository(session)
        self._stints = MembershipRepository(session)

    def watches(self, chat_id: int) -> bool:
        return self._order.for_chat(chat_id) is not None

    async def check(self, message: CheckedMessage, now: datetime) -> bool:
        """Acts on a message that breaks a rule; ``True`` when it is being deleted (nothing
        else should come of it: no hook answer, no activity)."""
        compiled = self._order.for_chat(message.chat_id)
        if compiled is None or message.from_moderator:
            return False
        moderation, rules = compiled
        bursts: list[Burst] = []
        if not message.edited and (moderation.flood or moderation.stickers or moderation.wave):
            bursts = await self._counters.note(
                noted(
                    message.chat_id,
                    message.person.id,
                    message.message_id,
                    message.text,
                    sticker=message.facts.sticker,
                    moderation=moderation,
                    at=now,
                ),
                moderation,
            )
        finding = rules.check(message.text)
        if (
            finding is None
            and moderation.newcomer_links is not None
            and has_link(message.text, message.facts)
            and await self._is_newcomer(message, moderation.newcomer_links, now)
        ):
            finding = Finding("link")
        deleting = False
        if finding is not None:
            deleting = await self._act(message, finding, moderation, now)
        for burst in bursts:
            deleting = await self._act_on_burst(message, burst, moderation, now) or deleting
        return deleting

    async def _act(
        self, message: CheckedMessage, finding: Finding, moderation: ModerationConfig, now: datetime
    ) -> bool:
        """One message against one rule: deleted (unless the rule keeps it), then its steps."""
        steps = moderation.steps_for(finding.rule)
        if moderation.mode == "report":
            await self._report(message, finding, moderation, now)
            return False
        done = "delete" if steps.delete else "flag"
        if await self._actions.done_to_message(message.chat_id, message.message_id, done):
            return steps.delete  # an edit of a message already acted on
        if steps.delete:
            await self.delete(message.chat_id, message.message_id, now)
        await self._actions.add(
            chat_id=message.chat_id,
            user_id=message.person.id,
            message_id=message.message_id,
            action=done,
            rule=finding.rule,
            at=now,
        )
        log.info(
            "moderation: message %d in %d from %d %s (%s)",
            message.message_id,
            message.chat_id,
            message.person.id,
            "deleted" if steps.delete else "flagged",
            finding.rule,
        )
        if not message.as_channel:
            await self._steps(message.chat_id, message.person, finding.rule, steps, moderation, now)
        return steps.delete

    async def _act_on_burst(
        self, message: CheckedMessage, burst: Burst, moderation: ModerationConfig, now: datetime
    ) -> bool:
        """A flood or a wave: every message of it deleted (the earlier ones too, once it is
        recognised), each sender's steps once per burst; in report mode the team is told once."""
        steps = moderation.steps_for(burst.rule)
        if moderation.mode == "report":
            if burst.started:
                await self._report_burst(message, burst, moderation, now)
            return False
        for sender, message_id in burst.messages:
            if not steps.delete or await self._actions.done_to_message(
                message.chat_id, message_id, "delete"
            ):
                continue
            await self.delete(message.chat_id, message_id, now)
            await self._actions.add(
                chat_id=message.chat_id,
                user_id=sender,
                message_id=message_id,
                action="delete",
                rule=burst.rule,
                at=now,
            )
        if burst.started:
            log.info(
                "moderation: %s in %d (%d messages, %d senders)",
                burst.rule,
                message.chat_id,
                len(burst.messages),
                len(burst.offenders),
            )
        for sender in burst.offenders:
            if sender < 0:
                continue  # a channel posting in the group: nothing to warn, mute or ban
            who = message.person if sender == message.person.id else await self._person(sender)
            await self._steps(message.chat_id, who, burst.rule, steps, moderation, now)
        return steps.delete

    async def _steps(
        self,
        chat_id: int,
        person: Person,
        rule: str,
        steps: Steps,
        moderation: ModerationConfig,
        now: datetime,
    ) -> None:
        if steps.warn:
            await self.warn(chat_id, person, rule, moderation, now, by=None, steps=steps)
        elif moderation.tell_member:
            await self._tell(chat_id, person, rule, "delete", 0, now)

    async def _person(self, user_id: int) -> Person:
        member = await self._members.get(user_id)
        if member is None:
            return Person(id=user_id, first_name="")
        return Person(
            id=user_id, first_name=member.first_name or "", language_code=member.language_code
        )

    async def delete(self, chat_id: int, message_id: int, now: datetime) -> None:
        await self._messenger.call(
            Call(
                key=f"mod:del:{chat_id}:{message_id}",
                chat_id=chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.MODERATION,
                method="deleteMessage",
                payload={"message_id": message_id},
            ),
            now,
        )

    async def warn(
        self,
        chat_id: int,
        person: Person,
        rule: str,
        moderation: ModerationConfig,
        now: datetime,
        *,
        by: int | None,
        steps: Steps | None = None,
    ) -> int:
        """A warning; at ``mute_after`` warnings (not expired) a mute, at ``ban_after`` a
        ban — the rule's own steps, else the top-level ones. Returns the warnings that count
        now (every rule's)."""
        steps = steps or moderation.steps_for(rule)
        await self._actions.add(
            chat_id=chat_id, user_id=person.id, action="warn", rule=rule, at=now, by_user_id=by
        )
        count = await self._actions.warnings(chat_id, person.id, now - moderation.warnings_expire)
        if steps.ban_after and count >= steps.ban_after:
            await self.ban(chat_id, person.id, rule, now, by=None)
            step = "ban"
        elif steps.mute_after and count >= steps.mute_after:
            await self.mute(chat_id, person.id, steps.mute_for, rule, now, by=None)
            step = "mute"
        else:
            step = "warn"
        if moderation.tell_member:
            await self._tell(chat_id, person, rule, step, count, now, moderation, steps)
        return count

    async def mute(
        self,
        chat_id: int,
        user_id: int,
        length: timedelta,
        rule: str,
        now: datetime,
        *,
        by: int | None,
    ) -> datetime:
        until = now + min(length, LONGEST_MUTE)
        await self._call(
            chat_id,
            "restrictChatMember",
            f"mute:{user_id}:{_stamp(now)}",
            {
                "user_id": user_id,
                "permissions": MUTED,
                "until_date": _stamp(until),
                "use_independent_chat_permissions": True,
            },
            now,
        )
        await self._actions.add(
            chat_id=chat_id,
            user_id=user_id,
            action="mute",
            rule=rule,
            at=now,
            by_user_id=by,
            until=until,
        )
        return until

    async def unmute(self, chat_id: int, user_id: int, now: datetime, *, by: int) -> None:
        await self._call(
            chat_id,
            "restrictChatMember",
            f"unmute:{user_id}:{_stamp(now)}",
            {
                "user_id": user_id,
                "permissions": UNMUTED,
                "use_independent_chat_permissions": True,
            },
            now,
        )
        await self._actions.add(
            chat_id=chat_id, user_id=user_id, action="unmute", rule="manual", at=now, by_user_id=by
        )

    async def ban(
        self, chat_id: int, user_id: int, rule: str, now: datetime, *, by: int | None
    ) -> None:
        await self._call(
            chat_id, "banChatMember", f"ban:{user_id}:{_stamp(now)}", {"user_id": user_id}, now
        )
        await self._actions.add(
            chat_id=chat_id, user_id=user_id, action="ban", rule=rule, at=now, by_user_id=by
        )

    async def unban(self, chat_id: int, user_id: int, now: datetime, *, by: int) -> None:
        await self._call(
            chat_id,
            "unbanChatMember",
            f"unban:{user_id}:{_stamp(now)}",
            {"user_id": user_id, "only_if_banned": True},
            now,
        )
        await self._actions.add(
            chat_id=chat_id, user_id=user_id, action="unban", rule="manual", at=now, by_user_id=by
        )

    async def unwarn(self, chat_id: int, user_id: int, now: datetime, *, by: int) -> bool:
        moderation = self._config.moderation_for(chat_id) or ModerationConfig()
        taken = await self._actions.revoke_last_warning(
            chat_id, user_id, now - moderation.warnings_expire
        )
        if taken:
            await self._actions.add(
                chat_id=chat_id,
                user_id=user_id,
                action="unwarn",
                rule="manual",
                at=now,
                by_user_id=by,
            )
        return taken

    async def warnings(self, chat_id: int, user_id: int, now: datetime) -> int:
        moderation = self._config.moderation_for(chat_id) or ModerationConfig()
        return await self._actions.warnings(chat_id, user_id, now - moderation.warnings_expire)

    # -- internals ----------------------------------------------------------------------------

    async def _call(
        self, chat_id: int, method: str, key: str, payload: dict[str, Any], now: datetime
    ) -> None:
        await self._messenger.call(
            Call(
                key=f"mod:{chat_id}:{key}",
                chat_id=chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.MODERATION,
                method=method,
                payload=payload,
            ),
            now,
        )

    async def _is_newcomer(self, message: CheckedMessage, within: timedelta, now: datetime) -> bool:
        """Joined less than ``within`` ago (a member who was there before the bot is not)."""
        if message.as_channel:
            return True  # a channel is nobody's member: its links are a newcomer's
        stint = await self._stints.open_stint(message.chat_id, message.person.id)
        return stint is not None and stint.joined_at > now - within

    async def _report(
        self,
        message: CheckedMessage,
        finding: Finding,
        moderation: ModerationConfig,
        now: datetime,
    ) -> None:
        """Report mode: the team is told what would have been done, once per message."""
        if await self._actions.done_to_message(message.chat_id, message.message_id, "report"):
            return
        await self._actions.add(
            chat_id=message.chat_id,
            user_id=message.person.id,
            message_id=message.message_id,
            action="report",
            rule=finding.rule,
            at=now,
        )
        await self._tell_team(
            message,
            finding.rule,
            finding.detail,
            moderation,
            now,
            key=f"{message.chat_id}:{message.message_id}",
        )

    async def _report_burst(
        self, message: CheckedMessage, burst: Burst, moderation: ModerationConfig, now: datetime
    ) -> None:
        """Report mode: a flood or a wave is told once, when it is recognised (a wave of 500
        copies must not spend the team chat's 20 messages a minute)."""
        for sender, message_id in burst.messages:
            await self._actions.add(
                chat_id=message.chat_id,
                user_id=sender,
                message_id=message_id,
                action="report",
                rule=burst.rule,
                at=now,
            )
        await self._tell_team(
            message,
            burst.rule,
            "",
            moderation,
            now,
            key=burst.key,
            count=len(burst.messages),
            accounts=len(burst.offenders),
        )

    async def _tell_team(
        self,
        message: CheckedMessage,
        rule: str,
        detail: str,
        moderation: ModerationConfig,
        now: datetime,
        *,
        key: str,
        count: int = 1,
        accounts: int = 1,
    ) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            return
        steps = moderation.steps_for(rule)
        warnings = await self._actions.warnings(
            message.chat_id, message.person.id, now - moderation.warnings_expire
        )
        would = "delete"
        if steps.warn and not message.as_channel:
            if steps.ban_after and warnings + 1 >= steps.ban_after:
                would = "ban"
            elif steps.mute_after and warnings + 1 >= steps.mute_after:
                would = "mute"
            else:
                would = "warn"
        community = self._config.community(message.chat_id)
        await self._messenger.send(
            key=f"mod:report:{key}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.MODERATION,
            template="mod_report",
            locale=self._config.default_locale,
            context={
                "name": message.person.first_name,
                "user_id": message.person.id,
                "community": community.title if community else str(message.chat_id),
                "rule": rule,
                "word": detail,
                "would": would,
                "count": count,
                "accounts": accounts,
                "link": message_link(message.chat_id, message.message_id),
            },
            now=now,
        )

    async def _tell(
        self,
        chat_id: int,
        person: Person,
        rule: str,
        step: str,
        warnings: int,
        now: datetime,
        moderation: ModerationConfig | None = None,
        steps: Steps | None = None,
    ) -> None:
        """Why, once per rule (and once per mute or ban): by DM when the member can be
        messaged, else a short notice in the group that deletes itself."""
        moderation = moderation or self._config.moderation_for(chat_id) or ModerationConfig()
        steps = steps or moderation.steps_for(rule)
        once = rule if step in ("warn", "delete") else f"{step}:{warnings}"
        if not await self._actions.first_notice(chat_id, person.id, once[:32], now):
            return
        community = self._config.community(chat_id)
        context = {
            "name": person.first_name,
            "rule": rule,
            "step": step,
            "warnings": warnings,
            "mute_after": steps.mute_after,
            "ban_after": steps.ban_after,
            "community": community.title if community else "",
            "hours": int(steps.mute_for.total_seconds() // 3600),
        }
        member = await self._members.get(person.id)
        if member is not None and member.reachable:
            await self._messenger.send(
                key=f"mod:why:{chat_id}:{person.id}:{once}",
                chat_id=person.id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.MODERATION,
                template="mod_why",
                locale=self._messenger.renderer.locale_for(person.language_code),
                context=context,
                now=now,
            )
            return
        window = _stamp(now) // int(GROUP_NOTICE_EVERY.total_seconds())
        await self._messenger.send(
            key=f"mod:notice:{chat_id}:{window}",
            chat_id=chat_id,
            chat_kind=ChatKind.GROUP,
            purpose=SELF_DELETING,
            template="mod_why_group",
            locale=self._config.default_locale,
            context=context,
            now=now,
        )


#: the admin rights the bot uses, and what stops without each
NEEDED_RIGHTS: dict[str, str] = {
    "can_delete_messages": "delete",
    "can_restrict_members": "restrict",
    "can_pin_messages": "pin",
    "can_invite_users": "invite",
    "can_manage_topics": "topics",
}


class BotRightsService:
    """The bot was removed from a community or lost a right it needs: the team is told at
    once what stops working (a right given back is not news)."""

    def __init__(self, config: CommunityConfig, messenger: Messenger) -> None:
        self._config = config
        self._messenger = messenger

    async def changed(
        self,
        chat_id: int,
        status: str,
        rights: dict[str, bool],
        before: dict[str, bool],
        update_id: int,
        now: datetime,
    ) -> list[str]:
        """What was lost (the keys of :data:`NEEDED_RIGHTS`, or ``["removed"]``)."""
        team_chat = self._config.team.chat
        community = self._config.community(chat_id)
        if team_chat is None or community is None:
            return []
        if status in ("left", "kicked"):
            lost = ["removed"]
        else:
            lost = [
                what
                for right, what in NEEDED_RIGHTS.items()
                if before.get(right, True) and not rights.get(right, False)
            ]
        if not lost:
            return []
        await self._messenger.send(
            key=f"mod:rights:{chat_id}:{update_id}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.ALERT,
            template="mod_bot_rights",
            locale=self._config.default_locale,
            context={"community": community.title, "lost": lost, "status": status},
            now=now,
        )
        log.warning("bot rights in %d: lost %s (now %s)", chat_id, ", ".join(lost), status)
        return lost
