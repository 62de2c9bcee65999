"""Filters: which chats are communities, who is an operator."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ChatJoinRequest, ChatMemberUpdated, Message

from bot.config import CommunityConfig

log = logging.getLogger(__name__)

Event = Message | ChatMemberUpdated | ChatJoinRequest | CallbackQuery
MEMBER_STATUSES = {"creator", "administrator", "member", "restricted"}


def _chat_id(event: Event) -> int | None:
    if isinstance(event, CallbackQuery):
        return event.message.chat.id if event.message else None
    return event.chat.id


class InCommunity(Filter):
    """The event happened in one of the configured communities."""

    async def __call__(self, event: Event, config: CommunityConfig) -> bool:
        chat_id = _chat_id(event)
        return chat_id is not None and config.is_community(chat_id)


class InKnownChat(Filter):
    """A private chat, the team chat or a community: the bot stays silent anywhere else."""

    async def __call__(self, event: Event, config: CommunityConfig) -> bool:
        if isinstance(event, Message) and event.chat.type == ChatType.PRIVATE:
            return True
        chat_id = _chat_id(event)
        return chat_id is not None and (chat_id == config.team.chat or config.is_community(chat_id))


class TeamChat(Filter):
    async def __call__(self, event: Event, config: CommunityConfig) -> bool:
        return config.team.chat is not None and _chat_id(event) == config.team.chat


class InTeamPlace(Filter):
    """Private chat or the team chat: where team figures may be shown."""

    async def __call__(self, event: Message, config: CommunityConfig) -> bool:
        return event.chat.type == ChatType.PRIVATE or event.chat.id == config.team.chat


#: how long anything learnt of team chat membership is believed (seconds): a teammate removed
#: while the bot missed the update loses operator rights within this, an active teammate costs
#: one ``getChatMember`` per this
MEMBERSHIP_TTL = 300.0
#: entries kept before the expired ones are dropped (one per person who asked or spoke)
_PRUNE_AT = 10_000


class OperatorDirectory:
    """Who belongs to the team chat, as Telegram says it: ``getChatMember`` answers,
    ``chat_member`` updates of the team chat and messages sent in it. A button press is no such
    word (anyone who sees a message may press its buttons). Every entry expires after ``ttl``
    seconds of ``clock`` (monotonic), and is then asked of Telegram again."""

    def __init__(
        self, ttl: float = MEMBERSHIP_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}
        #: told of what this process learnt that changed an entry (several processes: handed
        #: to the others, so a removal takes rights away everywhere at once)
        self.on_change: Callable[[int, int, bool], None] | None = None

    async def is_operator(
        self, bot: Bot, config: CommunityConfig, user_id: int, sent_in: int | None
    ) -> bool:
        """``team.operators``, or a member of ``team.chat`` (asked of Telegram, remembered).
        ``sent_in``: the chat a message was sent in — a message in the team chat shows its
        sender is there; ``None`` for anything else (a button press on a team chat message)."""
        if user_id in config.team.operators:
            return True
        team_chat = config.team.chat
        if team_chat is None:
            return False
        if sent_in == team_chat:
            self.remember(team_chat, user_id)
            return True  # Telegram delivered a message sent in the team chat: the sender is in it
        return await self.in_team_chat(bot, team_chat, user_id)

    def is_known_operator(self, config: CommunityConfig, user_id: int) -> bool:
        """Without asking Telegram (hot paths: every community message): the operator list,
        or team chat membership learnt less than ``ttl`` ago. An expired entry is unknown (not
        an operator) until :meth:`recheck` asks again, outside the update's transaction."""
        if user_id in config.team.operators:
            return True
        if config.team.chat is None:
            return False
        fresh = self._fresh(config.team.chat, user_id)
        return fresh is not None and fresh

    def may_be_operator(self, config: CommunityConfig, user_id: int) -> bool:
        """The operator list, or anyone last known to be in the team chat, however long ago:
        their community messages take the single path (``handlers/chatter.py``), which asks
        Telegram again when the entry has expired (:meth:`recheck`)."""
        if user_id in config.team.operators:
            return True
        known = self._known.get((config.team.chat, user_id)) if config.team.chat else None
        return known is not None and known[0]

    async def recheck(self, bot: Bot, config: CommunityConfig, user_id: int) -> None:
        """A teammate whose entry has expired is asked of Telegram again (call it before the
        transaction opens, so :meth:`is_known_operator` finds the answer). Nobody else costs a
        call: people never seen in the team chat stay unknown."""
        team_chat = config.team.chat
        if team_chat is None or user_id in config.team.operators:
            return
        known = self._known.get((team_chat, user_id))
        if known is not None and known[0] and self._fresh(team_chat, user_id) is None:
            await self.in_team_chat(bot, team_chat, user_id)

    def seed(self, team_chat: int, user_ids: Iterable[int]) -> None:
        """People seen in the team chat before this process started (the ``team`` tag): known
        as teammates but expired, so each is asked of Telegram again before their first
        community message counts as the team's answer."""
        stale = self._clock() - self._ttl
        for user_id in user_ids:
            self._known.setdefault((team_chat, user_id), (True, stale))

    def remember(
        self, team_chat: int, user_id: int, present: bool = True, *, announce: bool = True
    ) -> None:
        """Someone spoke in the team chat (they are in it), or Telegram reported them joining or
        leaving it: a removed teammate loses operator rights at once, not when a cache expires.
        ``announce=False``: another process learnt it (it is not handed on again)."""
        before = self._known.get((team_chat, user_id))
        if announce and self.on_change is not None and (before is None or before[0] != present):
            self.on_change(team_chat, user_id, present)
        if len(self._known) >= _PRUNE_AT:
            now = self._clock()
            self._known = {
                key: entry for key, entry in self._known.items() if now - entry[1] < self._ttl
            }
        self._known[(team_chat, user_id)] = (present, self._clock())

    async def in_team_chat(self, bot: Bot, team_chat: int, user_id: int) -> bool:
        cached = self._fresh(team_chat, user_id)
        if cached is not None:
            return cached
        try:
            member = await bot.get_chat_member(team_chat, user_id)
            is_member = member.status in MEMBER_STATUSES and getattr(member, "is_member", True)
        except TelegramAPIError as error:
            log.info("team chat membership of %d unknown: %s", user_id, error.message)
            is_member = False
        self.remember(team_chat, user_id, is_member)
        return is_member

    def _fresh(self, team_chat: int, user_id: int) -> bool | None:
        """What was learnt less than ``ttl`` ago; ``None`` when nothing (or it expired)."""
        known = self._known.get((team_chat, user_id))
        if known is None or self._clock() - known[1] >= self._ttl:
            return None
        return known[0]


class IsOperator(Filter):
    """``team.operators``, or a member of ``team.chat``."""

    async def __call__(
        self,
        event: Message | CallbackQuery,
        config: CommunityConfig,
        bot: Bot,
        operators: OperatorDirectory,
        **_: Any,
    ) -> bool:
        user = event.from_user
        if user is None or user.is_bot:
            return False
        sent_in = event.chat.id if isinstance(event, Message) else None  # not a button press
        return await operators.is_operator(bot, config, user.id, sent_in)
