"""The service desk's Telegram side of its loop: what the team chat is (a forum? may the bot
make topics?), asked outside any transaction; the rest is ``bot/services/desk/jobs.py``."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)

#: how often Telegram is asked about the team chat
TEAM_CHAT_CHECK = timedelta(hours=1)


async def team_chat_facts(bot: Bot, team_chat: int) -> tuple[bool, bool] | None:
    """``(is_forum, can_manage_topics)`` as Telegram says (a network call: outside any
    transaction); ``None`` when it cannot be asked."""
    try:
        chat = await bot.get_chat(team_chat)
        me = await bot.get_chat_member(team_chat, bot.id)
    except TelegramAPIError as error:
        log.warning("the team chat %d could not be checked: %s", team_chat, error.message)
        return None
    can = me.status == "creator" or bool(getattr(me, "can_manage_topics", False))
    return bool(chat.is_forum), can
