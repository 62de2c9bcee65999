"""A community's rules: ``/rules`` for members (by DM; in the group at most once an hour per
member, as refusals are) and ``/rules post`` for operators (posted in the community and pinned
once it went out, by ``ModerationDeliveryHook``); the greeting links to the pinned post."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.community import CommunityChat
from bot.config.moderation import ModerationConfig
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import MemberRepository
from bot.db.repositories.moderation import RULES_POST, ModActionRepository
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger

#: the template of a community without ``communities[].rules``
DEFAULT_RULES = "rules"
#: ``/rules`` in a community answers in the group at most this often per member
RULES_IN_GROUP_EVERY = timedelta(hours=1)


class RulesService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, messenger: Messenger
    ) -> None:
        self._config = config
        self._messenger = messenger
        self._members = MemberRepository(session)
        self._actions = ModActionRepository(session)

    async def answer(self, origin: Origin, person: Person, now: datetime) -> None:
        """``/rules``: in private, every community's rules; in a community, its rules by DM
        when the member can be messaged, else in the group once an hour."""
        if origin.chat_kind == "private":
            for index, each in enumerate(self._config.communities):
                await self._send(
                    each,
                    person.id,
                    ChatKind.PRIVATE,
                    f"reply:{origin.update_id}:{index}",
                    now,
                    locale=self._messenger.renderer.locale_for(person.language_code),
                )
            return
        community = self._config.community(origin.chat_id)
        if community is None:
            return
        member = await self._members.get(person.id)
        if member is not None and member.reachable:
            await self._send(
                community,
                person.id,
                ChatKind.PRIVATE,
                f"reply:{origin.update_id}",
                now,
                locale=self._messenger.renderer.locale_for(person.language_code),
            )
            return
        if await self._actions.told_since(
            origin.chat_id, person.id, "rules:answer", now - RULES_IN_GROUP_EVERY, now
        ):
            await self._send(
                community,
                origin.chat_id,
                ChatKind.GROUP,
                f"reply:{origin.update_id}",
                now,
                reply_to=origin.message_id,
            )

    async def post(self, origin: Origin, now: datetime) -> bool:
        """``/rules post`` in a community: the rules are posted there, then pinned."""
        community = self._config.community(origin.chat_id)
        if community is None:
            return False
        queued = await self._send(
            community,
            origin.chat_id,
            ChatKind.GROUP,
            f"rules:post:{origin.update_id}",
            now,
            purpose=RULES_POST,
        )
        return queued is not None

    async def _send(
        self,
        community: CommunityChat,
        chat_id: int,
        chat_kind: ChatKind,
        key: str,
        now: datetime,
        *,
        locale: str | None = None,
        purpose: Purpose = Purpose.REPLY,
        reply_to: int | None = None,
    ) -> int | None:
        moderation = self._config.moderation_for(community.chat_id)
        return await self._messenger.send(
            key=key,
            chat_id=chat_id,
            chat_kind=chat_kind,
            purpose=purpose,
            template=community.rules or DEFAULT_RULES,
            locale=locale or self._config.default_locale,
            context=self._context(community, moderation),
            now=now,
            reply_to=reply_to,
        )

    def _context(
        self, community: CommunityChat, moderation: ModerationConfig | None
    ) -> dict[str, Any]:
        return {
            "community": community.title,
            "moderated": moderation is not None and moderation.mode == "enforce",
            "mute_after": moderation.mute_after if moderation else 0,
            "ban_after": moderation.ban_after if moderation else 0,
            "newcomer_links": moderation is not None and moderation.newcomer_links is not None,
        }
