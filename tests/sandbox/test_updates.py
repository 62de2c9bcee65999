"""getUpdates: long polling, offsets, allowed_updates, and the updates user actions create."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox import TelegramSandbox

from .conftest import ANN, BOB, GROUP


async def test_long_poll_wakes_on_injected_update(sb: TelegramSandbox, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)  # the poll is now waiting in the sandbox
    assert not poll.done()
    sb.user_sends(ANN, "/start src_x")
    updates = await asyncio.wait_for(poll, timeout=2)
    assert len(updates) == 1 and updates[0].message is not None
    message = updates[0].message
    assert message.text == "/start src_x" and message.chat.id == ANN
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].offset, message.entities[0].length) == (
        "bot_command",
        0,
        6,
    )
    assert sb.pending_updates() == 0

    # not confirmed yet: delivered again; confirming the offset discards it
    again = await bot.get_updates()
    assert [u.update_id for u in again] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == []


async def test_allowed_updates_filter(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_joins(GROUP, BOB)
    default = await bot.get_updates(allowed_updates=[])
    assert [u.event_type for u in default] == ["message"]  # chat_member is not by default
    assert sb.allowed_updates == []

    sb.user_joins(GROUP, ANN)
    only_members = await bot.get_updates(
        offset=default[-1].update_id + 1, allowed_updates=["chat_member"]
    )
    assert [u.event_type for u in only_members] == ["chat_member"]
    assert sb.allowed_updates == ["chat_member"]
    # the filter is remembered: a later call without allowed_updates still applies it
    sb.user_sends(ANN, "hi", chat_id=GROUP)
    sb.user_leaves(GROUP, ANN)
    later = await bot.get_updates(offset=only_members[-1].update_id + 1)
    assert [u.event_type for u in later] == ["chat_member"]


async def test_invite_link_join_carries_the_link(sb: TelegramSandbox, bot: Bot) -> None:
    link = await bot.create_chat_invite_link(GROUP, name="src_instagram")
    assert link.invite_link.startswith("https://t.me/+") and link.name == "src_instagram"
    other = await bot.create_chat_invite_link(GROUP)
    assert other.invite_link != link.invite_link
    assert [item["name"] for item in sb.invite_links[:1]] == ["src_instagram"]

    returned = sb.user_joins(GROUP, ANN, invite_link=link.invite_link)
    updates = await bot.get_updates(allowed_updates=["chat_member", "message"])
    member_update = next(u.chat_member for u in updates if u.chat_member is not None)
    assert returned["update_id"] == updates[0].update_id
    assert member_update.invite_link is not None
    assert member_update.invite_link.invite_link == link.invite_link
    assert member_update.invite_link.name == "src_instagram"
    assert (member_update.old_chat_member.status, member_update.new_chat_member.status) == (
        "left",
        "member",
    )
    service = next(u.message for u in updates if u.message is not None)
    assert service.new_chat_members is not None and service.new_chat_members[0].id == ANN
    member = await bot.get_chat_member(GROUP, ANN)
    assert member.status == "member"


async def test_join_request_allows_dm_and_approval(sb: TelegramSandbox, bot: Bot) -> None:
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    sb.join_request(GROUP, BOB, invite_link=link.invite_link)
    (update,) = await bot.get_updates()
    assert update.chat_join_request is not None
    assert update.chat_join_request.user_chat_id == BOB
    sent = await bot.send_message(BOB, "Tell us about yourself")
    assert sent.chat.id == BOB
    assert await bot.approve_chat_join_request(GROUP, BOB)
    assert sb.approved_requests == [(GROUP, BOB)]
    updates = await bot.get_updates(offset=update.update_id + 1, allowed_updates=["chat_member"])
    assert updates[0].chat_member is not None and updates[0].chat_member.via_join_request


async def test_button_press_and_answer(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    sent = await bot.send_message(
        ANN,
        "Agree?",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="agree")]]
        ),
    )
    sb.press_button(ANN, sent.message_id, ANN, "agree")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.data == "agree" and query.message is not None
    assert await bot.answer_callback_query(query.id, text="Thanks")


async def test_dispatcher_polling_end_to_end(sb: TelegramSandbox, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"Hello, {message.from_user.first_name}!")  # type: ignore[union-attr]

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        sb.user_sends(ANN, "/start")
        await sb.wait_for(lambda: len(sb.sent_messages(ANN)) == 1)
        assert sb.sent_messages(ANN)[0].text == "Hello, Ann!"
        assert sb.allowed_updates == ["message"]
    finally:
        await dp.stop_polling()
        await polling


async def test_second_poll_ends_the_first_with_conflict(sb: TelegramSandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=10))
    try:
        await asyncio.sleep(0.1)
        assert first.done() and isinstance(first.exception(), TelegramConflictError)
        sb.user_sends(ANN, "hi")
        assert len(await asyncio.wait_for(second, timeout=2)) == 1
    finally:
        second.cancel()


async def test_wait_for_timeout_explains(sb: TelegramSandbox, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(AssertionError, match=r"(?s)condition not met within 0.05s.*getMe"):
        await sb.wait_for(lambda: len(sb.sent_messages()) > 0, timeout=0.05)


async def test_sticker_edit_and_block_updates_parse(sb: TelegramSandbox, bot: Bot) -> None:
    sent = sb.user_sends(ANN, "typo")
    sb.user_sends_sticker(ANN)
    sb.user_edits(ANN, ANN, sent["message"]["message_id"], "fixed")
    sb.block_bot(ANN)
    updates = await bot.get_updates()
    assert [u.event_type for u in updates] == [
        "message",
        "message",
        "edited_message",
        "my_chat_member",
    ]
    assert updates[1].message is not None and updates[1].message.sticker is not None
    assert updates[2].edited_message is not None and updates[2].edited_message.text == "fixed"
    blocked = updates[3].my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"
