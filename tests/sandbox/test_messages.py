"""Sending, editing and refusing messages through the real aiogram Bot."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox import TelegramSandbox

from .conftest import ANN, BOB, GROUP, make_bot


async def test_get_me(sb: TelegramSandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == sb.bot_id == 123456
    assert me.username == "sopbot_sandbox_bot" and me.is_bot
    assert sb.calls[-1].method == "getMe" and sb.calls[-1].ok


async def test_send_and_edit_with_keyboard(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Rules", callback_data="rules:1")]]
    )
    sent = await bot.send_message(
        ANN, "<b>Hi</b> &amp; welcome", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.text == "Hi & welcome" and sent.chat.type == "private"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "rules:1"
    assert sent.message_id == 2  # the user's /start was message 1 in this chat

    record = sb.sent_messages(ANN)[0]
    assert record.text == "<b>Hi</b> &amp; welcome" and record.parse_mode == "HTML"
    assert record.reply_markup == {
        "inline_keyboard": [[{"text": "Rules", "callback_data": "rules:1"}]]
    }

    edited = await bot.edit_message_text("Bye", chat_id=ANN, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Bye" and edited.reply_markup is None
    current = sb.get_message(ANN, sent.message_id)
    assert current is not None and current.text == "Bye" and current.reply_markup is None
    assert sb.sent_messages(ANN)[0].text.startswith("<b>Hi")  # the record keeps what was sent

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Bye", chat_id=ANN, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANN, message_id=999)


async def test_reply_and_group_message(sb: TelegramSandbox, bot: Bot) -> None:
    update = sb.user_sends(BOB, "hello all", chat_id=GROUP)
    question = update["message"]["message_id"]
    sent = await bot.send_message(GROUP, "Welcome, Bob!", reply_to_message_id=question)
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "hello all"
    assert sent.chat.title == "Brand Club"
    assert sb.sent_messages(GROUP)[0].reply_to_message_id == question
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(GROUP, "x", reply_to_message_id=777)


async def test_photo_upload_and_document(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "hi")
    photo = await bot.send_photo(
        ANN,
        BufferedInputFile(b"\x89PNG...", "card.png"),
        caption="<i>Your card</i>",
        parse_mode="HTML",
    )
    assert photo.photo and photo.caption == "Your card"
    document = await bot.send_document(ANN, "BQACAgIAAxkBAAIB", caption="Guide")
    assert document.document is not None and document.document.file_id == "BQACAgIAAxkBAAIB"
    methods = [(m.method, m.text) for m in sb.sent_messages(ANN)]
    assert methods == [("sendPhoto", "<i>Your card</i>"), ("sendDocument", "Guide")]
    assert sb.calls[-2].params["photo"] == {"upload": "card.png", "size": 7}


async def test_blocked_user_is_forbidden(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    sb.block_bot(ANN)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANN, "still there?")
    assert sb.count_errors(403) == 1 and sb.sent_messages() == []


async def test_never_started_user_is_forbidden(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(BOB, "hello")


async def test_unknown_chat_is_bad_request(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100999, "hello")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("1 < 2", 'Unsupported start tag ""'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
    ],
)
async def test_bad_html_is_bad_request(
    sb: TelegramSandbox, bot: Bot, text: str, detail: str
) -> None:
    sb.user_sends(ANN, "hi")
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as err:
        await bot.send_message(ANN, text, parse_mode="HTML")
    assert detail in err.value.message


async def test_text_validation(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "hi")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ANN, "  ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANN, "x" * 4097)
    # 4096 visible characters are fine even when the markup makes the text longer
    await bot.send_message(ANN, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    long_data = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ANN, "pick", reply_markup=long_data)


async def test_wrong_token_and_unknown_method(
    sb: TelegramSandbox, http: aiohttp.ClientSession
) -> None:
    async with make_bot(sb, "999:WRONG") as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    assert sb.count_errors(401) == 1
    async with http.post(f"{sb.url}/bot{sb.token}/sendGift", json={}) as resp:
        body = await resp.json()
    assert resp.status == 404 and body == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }


async def test_json_and_query_parameters_case_insensitive(
    sb: TelegramSandbox, http: aiohttp.ClientSession
) -> None:
    sb.user_sends(ANN, "hi")
    async with http.post(
        f"{sb.url}/bot{sb.token}/SENDMESSAGE", json={"chat_id": ANN, "text": "json"}
    ) as resp:
        assert (await resp.json())["result"]["text"] == "json"
    async with http.get(
        f"{sb.url}/bot{sb.token}/sendMessage", params={"chat_id": str(ANN), "text": "query"}
    ) as resp:
        assert (await resp.json())["ok"] is True
    assert [m.text for m in sb.sent_messages(ANN)] == ["json", "query"]


async def test_fail_next_injects_errors(sb: TelegramSandbox, bot: Bot) -> None:
    sb.fail_next("getMe", 404, "Not Found", times=2)
    for _ in range(2):
        with pytest.raises(TelegramNotFound):
            await bot.get_me()
    assert (await bot.get_me()).id == sb.bot_id


async def test_delay_and_disconnect_means_not_sent(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "hi")
    sb.delay("sendMessage", 0.5)
    with pytest.raises(TelegramNetworkError):
        # aiogram types request_timeout as int; aiohttp's ClientTimeout takes the float
        await bot.send_message(ANN, "slow", request_timeout=0.1)  # type: ignore[arg-type]
    await asyncio.sleep(0.6)
    assert sb.sent_messages() == []
    assert sb.calls[-1].method == "sendMessage" and not sb.calls[-1].ok
    sb.delay("sendMessage", 0)
    await bot.send_message(ANN, "fast")
    assert [m.text for m in sb.sent_messages()] == ["fast"]
