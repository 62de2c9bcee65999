"""The sandbox's community-order methods, with Telegram's rules and error texts, through the
real aiogram Bot: deleting (rights, 48 hours, batches of at most 100), restricting, banning and
unbanning (until_date, administrators, rights, the chat_member updates, posting refused while
muted), pinning, and the inline-keyboard and callback-answer rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    ChatMemberRestricted,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from sandbox import TelegramSandbox
from sandbox.actions import PostingRefused

from .conftest import ANN, BOB, GROUP, ManualClock

MUTED = ChatPermissions(can_send_messages=False)


async def test_delete_needs_the_right_and_a_message_under_48_hours(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    first = sb.user_sends(ANN, "spam", chat_id=GROUP)["message"]["message_id"]
    second = sb.user_sends(ANN, "spam", chat_id=GROUP)["message"]["message_id"]
    assert await bot.delete_message(GROUP, first)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(GROUP, first)
    clock.advance(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(GROUP, second)
    third = sb.user_sends(ANN, "spam", chat_id=GROUP)["message"]["message_id"]
    sb.set_bot_rights(GROUP, can_restrict_members=True)  # no can_delete_messages
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(GROUP, third)
    assert [d[1] for d in sb.world.deleted] == [first]


async def test_delete_messages_takes_1_to_100_ids_and_skips_what_it_cannot(
    sb: TelegramSandbox, bot: Bot
) -> None:
    ids = [sb.user_sends(BOB, f"m{i}", chat_id=GROUP)["message"]["message_id"] for i in range(5)]
    with pytest.raises(TelegramBadRequest, match="too many message identifiers"):
        await bot.delete_messages(GROUP, list(range(1, 102)))
    assert await bot.delete_messages(GROUP, [*ids[:3], 9999])
    assert {d[1] for d in sb.world.deleted} == set(ids[:3])
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_messages(GROUP, [9998, 9999])


async def test_delete_messages_keeps_the_48_hour_and_rights_rules_per_id(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    old = sb.user_sends(BOB, "old", chat_id=GROUP)["message"]["message_id"]
    clock.advance(48 * 3600 + 1)
    fresh = sb.user_sends(BOB, "fresh", chat_id=GROUP)["message"]["message_id"]
    assert await bot.delete_messages(GROUP, [old, fresh])  # the old one is skipped
    assert [d[1] for d in sb.world.deleted] == [fresh]
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_messages(GROUP, [old])
    other = sb.user_sends(BOB, "other", chat_id=GROUP)["message"]["message_id"]
    sb.set_bot_rights(GROUP, can_restrict_members=True)  # no can_delete_messages
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_messages(GROUP, [other, 9999])
    with pytest.raises(TelegramBadRequest, match="message identifiers are not specified"):
        await bot.delete_messages(GROUP, [])


async def test_restrict_mutes_until_the_date_and_posting_is_refused(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    sb.user_sends(ANN, "hi", chat_id=GROUP)
    until = int(clock() + 3600)
    assert await bot.restrict_chat_member(GROUP, ANN, MUTED, until_date=until)
    member = await bot.get_chat_member(GROUP, ANN)
    assert isinstance(member, ChatMemberRestricted)
    assert int(member.until_date.timestamp()) == until
    with pytest.raises(PostingRefused):
        sb.user_sends(ANN, "let me talk", chat_id=GROUP)
    [update] = await bot.get_updates(allowed_updates=["chat_member"])
    assert update.chat_member is not None
    assert update.chat_member.new_chat_member.status == "restricted"
    assert update.chat_member.from_user.id == sb.bot_id
    clock.advance(3601)
    sb.user_sends(ANN, "free again", chat_id=GROUP)  # the mute ran out


async def test_until_date_too_near_or_too_far_is_forever(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    sb.user_sends(ANN, "hi", chat_id=GROUP)
    await bot.restrict_chat_member(GROUP, ANN, MUTED, until_date=int(clock() + 10))
    clock.advance(timedelta(days=400).total_seconds())
    with pytest.raises(PostingRefused):
        sb.user_sends(ANN, "still muted", chat_id=GROUP)


async def test_administrators_and_missing_rights_are_refused(sb: TelegramSandbox, bot: Bot) -> None:
    sb.set_admin(GROUP, BOB)
    with pytest.raises(TelegramBadRequest, match="user is an administrator of the chat"):
        await bot.ban_chat_member(GROUP, BOB)
    sb.set_admin(GROUP, BOB, "creator")
    with pytest.raises(TelegramBadRequest, match="can't remove chat owner"):
        await bot.restrict_chat_member(GROUP, BOB, MUTED)
    sb.user_sends(ANN, "hi", chat_id=GROUP)
    sb.set_bot_rights(GROUP, can_delete_messages=True)
    with pytest.raises(
        TelegramBadRequest, match="not enough rights to restrict/unrestrict chat member"
    ):
        await bot.restrict_chat_member(GROUP, ANN, MUTED)
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages"):
        await bot.pin_chat_message(GROUP, 1)


async def test_ban_removes_and_unban_lets_back(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "hi", chat_id=GROUP)
    assert await bot.ban_chat_member(GROUP, ANN)
    assert (await bot.get_chat_member(GROUP, ANN)).status == "kicked"
    with pytest.raises(PostingRefused):
        sb.user_sends(ANN, "back?", chat_id=GROUP)
    assert await bot.unban_chat_member(GROUP, ANN, only_if_banned=True)
    assert (await bot.get_chat_member(GROUP, ANN)).status == "left"


async def test_pin_a_message(sb: TelegramSandbox, bot: Bot) -> None:
    sent = await bot.send_message(GROUP, "Rules")
    assert await bot.pin_chat_message(GROUP, sent.message_id)
    assert sb.world.pinned[GROUP] == [sent.message_id]
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(GROUP, 9999)


async def test_inline_buttons_need_exactly_one_action(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    text_only = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="just text")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed in the inline"):
        await bot.send_message(ANN, "x", reply_markup=text_only)
    two = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="t", url="https://a.example", callback_data="d")]
        ]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(ANN, "x", reply_markup=two)


async def test_callback_answer_text_is_at_most_200_characters(
    sb: TelegramSandbox, bot: Bot
) -> None:
    sent = await bot.send_message(
        GROUP,
        "press",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="b", callback_data="x")]]
        ),
    )
    update = sb.press_button(ANN, sent.message_id, GROUP, "x")
    query_id = update["callback_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="x" * 200)


async def test_only_if_banned_spares_a_member_and_a_ban_keeps_them_out_until_unbanned(
    sb: TelegramSandbox, bot: Bot
) -> None:
    from sandbox.actions import JoinRefused

    sb.user_sends(ANN, "hi", chat_id=GROUP)
    assert await bot.unban_chat_member(GROUP, ANN, only_if_banned=True)
    assert (await bot.get_chat_member(GROUP, ANN)).status == "member"
    assert await bot.ban_chat_member(GROUP, ANN)
    with pytest.raises(JoinRefused):
        sb.user_joins(GROUP, ANN)
    assert await bot.unban_chat_member(GROUP, ANN, only_if_banned=True)
    sb.user_joins(GROUP, ANN)  # removed, not banned: they may come back
    assert (await bot.get_chat_member(GROUP, ANN)).status == "member"
    assert await bot.unban_chat_member(GROUP, ANN)  # without only_if_banned: removed
    assert (await bot.get_chat_member(GROUP, ANN)).status == "left"


async def test_bans_count_against_the_bots_requests_a_second(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    from aiogram.exceptions import TelegramRetryAfter

    users = list(range(9001, 9032))
    for uid in users:
        sb.add_user(uid, f"U{uid}")
        sb.world.set_status(GROUP, uid, "member")
    for uid in users[:30]:
        assert await bot.ban_chat_member(GROUP, uid)
    with pytest.raises(TelegramRetryAfter):
        await bot.ban_chat_member(GROUP, users[30])
    with pytest.raises(TelegramBadRequest, match="user is an administrator"):
        sb.set_admin(GROUP, BOB)
        await bot.ban_chat_member(GROUP, BOB)  # refused before the limit: no slot either way
    clock.advance(1.0)
    assert await bot.ban_chat_member(GROUP, users[30])
    assert sb.world.status(GROUP, users[30]) == "kicked"
