"""What join protection relies on, as the sandbox models Telegram: a join requester may be
written to for five minutes until the request is handled; approving or declining needs *invite
users* and a request still pending ("HIDE_REQUESTER_MISSING"); a member restricted with no send
permissions cannot post until all are given back (the ``chat_member`` updates both ways);
``answerCallbackQuery`` with ``show_alert``, once per press."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import TelegramSandbox
from sandbox.actions import PostingRefused

from .conftest import ANN, BOB, GROUP, ManualClock

NOTHING = ChatPermissions(
    can_send_messages=False,
    can_send_audios=False,
    can_send_documents=False,
    can_send_photos=False,
    can_send_videos=False,
    can_send_video_notes=False,
    can_send_voice_notes=False,
    can_send_polls=False,
    can_send_other_messages=False,
    can_add_web_page_previews=False,
)
EVERYTHING = ChatPermissions(**{key: True for key in NOTHING.model_dump(exclude_none=True)})


async def test_a_requester_may_be_written_to_until_the_request_is_handled(
    sb: TelegramSandbox, bot: Bot
) -> None:
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(ANN, "hello")
    sb.join_request(GROUP, ANN)
    assert await bot.send_message(ANN, "press 🍎")
    assert await bot.decline_chat_join_request(GROUP, ANN)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(ANN, "too late")
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(GROUP, ANN)  # handled already


async def test_a_requester_may_be_written_to_for_five_minutes_only(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    sb.join_request(GROUP, ANN)
    clock.advance(299)
    assert await bot.send_message(ANN, "still in time")
    clock.advance(2)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(ANN, "five minutes passed")
    sb.user_sends(BOB, "/start")  # one who started the bot may be written to anyway
    sb.join_request(GROUP, BOB)
    assert await bot.decline_chat_join_request(GROUP, BOB)
    assert await bot.send_message(BOB, "declined, but you started me")


async def test_handling_a_request_needs_the_invite_right(sb: TelegramSandbox, bot: Bot) -> None:
    sb.join_request(GROUP, ANN)
    sb.set_bot_rights(GROUP, can_restrict_members=True)
    with pytest.raises(TelegramBadRequest, match="CHAT_ADMIN_REQUIRED"):
        await bot.approve_chat_join_request(GROUP, ANN)
    with pytest.raises(TelegramBadRequest, match="CHAT_ADMIN_REQUIRED"):
        await bot.decline_chat_join_request(GROUP, ANN)
    sb.set_bot_rights(GROUP, can_restrict_members=True, can_invite_users=True)
    assert await bot.approve_chat_join_request(GROUP, ANN)
    assert sb.approved_requests == [(GROUP, ANN)]


async def test_a_restricted_joiner_cannot_post_until_everything_is_given_back(
    sb: TelegramSandbox, bot: Bot
) -> None:
    sb.user_joins(GROUP, ANN)
    assert await bot.restrict_chat_member(
        GROUP, ANN, NOTHING, use_independent_chat_permissions=True
    )
    with pytest.raises(PostingRefused):
        sb.user_sends(ANN, "buy now", chat_id=GROUP)
    assert (await bot.get_chat_member(GROUP, ANN)).status == "restricted"
    assert await bot.restrict_chat_member(
        GROUP, ANN, EVERYTHING, use_independent_chat_permissions=True
    )
    assert (await bot.get_chat_member(GROUP, ANN)).status == "member"
    sb.user_sends(ANN, "hello", chat_id=GROUP)
    updates = await bot.get_updates(allowed_updates=["chat_member"])
    moves = [
        (u.chat_member.old_chat_member.status, u.chat_member.new_chat_member.status)
        for u in updates
        if u.chat_member is not None
    ]
    assert moves == [("left", "member"), ("member", "restricted"), ("restricted", "member")]


async def test_a_callback_answer_may_be_an_alert_once(sb: TelegramSandbox, bot: Bot) -> None:
    sent = await bot.send_message(
        GROUP,
        "press",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="✅", callback_data="capj:x")]]
        ),
    )
    update = sb.press_button(BOB, sent.message_id, GROUP, "capj:x")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="not for you", show_alert=True)
    assert sb.world.callback_queries[query_id]["answer"] == {
        "text": "not for you",
        "show_alert": True,
        "url": None,
    }
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id, text="again")


async def test_a_lifted_restriction_falls_back_to_the_groups_default_permissions(
    sb: TelegramSandbox, bot: Bot
) -> None:
    """Every permission given back lifts the restriction: the member is a plain member again,
    bound by the group's defaults (``getChat``'s ``permissions``), not granted everything."""
    chat = await bot.get_chat(GROUP)
    assert chat.permissions is not None and chat.permissions.can_send_messages
    sb.user_joins(GROUP, ANN)
    await bot.restrict_chat_member(GROUP, ANN, NOTHING, use_independent_chat_permissions=True)
    sb.set_chat_permissions(GROUP, can_send_messages=False)  # the owner makes it read-only
    assert (await bot.get_chat(GROUP)).permissions.can_send_messages is False  # type: ignore[union-attr]
    await bot.restrict_chat_member(GROUP, ANN, EVERYTHING, use_independent_chat_permissions=True)
    assert (await bot.get_chat_member(GROUP, ANN)).status == "member"
    with pytest.raises(PostingRefused):
        sb.user_sends(ANN, "the group is read-only", chat_id=GROUP)
    sb.set_chat_permissions(GROUP)
    sb.user_sends(ANN, "open again", chat_id=GROUP)
