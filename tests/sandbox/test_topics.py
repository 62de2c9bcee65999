"""Forum topics in the sandbox: ``editForumTopic`` with Telegram's errors."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from sandbox import TelegramSandbox

from .conftest import GROUP

FORUM = -1002009


async def test_edit_forum_topic_renames_and_refuses_as_telegram_does(
    sb: TelegramSandbox, bot: Bot
) -> None:
    sb.add_chat(FORUM, "supergroup", "Team", is_forum=True)
    topic = await bot.create_forum_topic(FORUM, "Ann · 101")
    assert await bot.edit_forum_topic(FORUM, topic.message_thread_id, name="erased member")
    assert sb.world.topics[FORUM][topic.message_thread_id] == "erased member"
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(FORUM, topic.message_thread_id, name="erased member")
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.edit_forum_topic(FORUM, topic.message_thread_id + 100, name="x")
    with pytest.raises(TelegramBadRequest, match="TOPIC_TITLE_INVALID"):
        await bot.edit_forum_topic(FORUM, topic.message_thread_id, name="x" * 129)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.edit_forum_topic(GROUP, 1, name="x")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.edit_forum_topic(-42, 1, name="x")
