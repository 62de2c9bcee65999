"""Filters: which chats are communities, who is an operator."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiogram import Bot
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
        if isinstance(event, Message) and event.chat.type == "private":
            return True
        chat_id = _chat_id(event)
        return chat_id is not None and (chat_id == config.team.chat or config.is_community(chat_id))


class TeamChat(Filter):
    async def __call__(self, event: Event, config: CommunityConfig) -> bool:
        return config.team.chat is not None and _chat_id(event) == config.team.chat


class InTeamPlace(Filter):
    """Private chat or the team chat: where team figures may be shown."""

    async def __call__(self, event: Message, config: CommunityConfig) -> bool:
        return event.chat.type == "private" or event.chat.id == config.team.chat


class OperatorDirectory:
    """Who belongs to the team chat, asked of Telegram and remembered for a while."""

    def __init__(self, ttl: float = 300.0) -> None:
        self._ttl = ttl
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_operator(self, bot: Bot, config: CommunityConfig, user_id: int,
                          chat_id: int | None) -> bool:
        """``team.operators``, or a member of ``team.chat`` (asked of Telegram, remembered)."""
        if user_id in config.team.operators:
            return True
        team_chat = config.team.chat
        if team_chat is None:
            return False
        if chat_id == team_chat:
            self.remember(team_chat, user_id)
            return True  # Telegram delivered it from the team chat: the sender is in it
        return await self.in_team_chat(bot, team_chat, user_id)

    def is_known_operator(self, config: CommunityConfig, user_id: int) -> bool:
        """Without asking Telegram (hot paths: every community message): the operator list,
        or team chat membership learnt earlier."""
        if user_id in config.team.operators:
            return True
        if config.team.chat is None:
            return False
        known = self._known.get((config.team.chat, user_id))
        return known is not None and known[0]

    def remember(self, team_chat: int, user_id: int, present: bool = True) -> None:
        """Someone spoke in the team chat (they are in it), or Telegram reported them joining or
        leaving it: a removed teammate loses operator rights at once, not when a cache expires."""
        self._known[(team_chat, user_id)] = (present, time.monotonic())

    async def in_team_chat(self, bot: Bot, team_chat: int, user_id: int) -> bool:
        key = (team_chat, user_id)
        cached = self._known.get(key)
        if cached is not None and time.monotonic() - cached[1] < self._ttl:
            return cached[0]
        try:
            member = await bot.get_chat_member(team_chat, user_id)
            is_member = member.status in MEMBER_STATUSES and getattr(member, "is_member", True)
        except TelegramAPIError as error:
            log.info("team chat membership of %d unknown: %s", user_id, error.message)
            is_member = False
        self._known[key] = (is_member, time.monotonic())
        return is_member


class IsOperator(Filter):
    """``team.operators``, or a member of ``team.chat``."""

    async def __call__(self, event: Message | CallbackQuery, config: CommunityConfig, bot: Bot,
                       operators: OperatorDirectory, **_: Any) -> bool:
        user = event.from_user
        if user is None or user.is_bot:
            return False
        return await operators.is_operator(bot, config, user.id, _chat_id(event))
