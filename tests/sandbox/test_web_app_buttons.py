"""``web_app`` inline buttons as Telegram takes them: private chats only, https only."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from sandbox import TelegramSandbox

from .conftest import ANN, GROUP


def _keyboard(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", web_app=WebAppInfo(url=url))]]
    )


async def test_a_web_app_button_in_private(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    sent = await bot.send_message(ANN, "dashboard", reply_markup=_keyboard("https://d.example/"))
    assert sent.reply_markup is not None
    web_app = sent.reply_markup.inline_keyboard[0][0].web_app
    assert web_app is not None and web_app.url == "https://d.example/"
    assert sb.sent_messages(ANN)[0].reply_markup == {
        "inline_keyboard": [[{"text": "Open", "web_app": {"url": "https://d.example/"}}]]
    }


async def test_a_web_app_button_needs_https(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    with pytest.raises(TelegramBadRequest, match="Only HTTPS links are allowed"):
        await bot.send_message(ANN, "dashboard", reply_markup=_keyboard("http://d.example/"))
    assert sb.sent_messages(ANN) == []


async def test_an_http_web_app_in_the_test_environment(sb: TelegramSandbox, bot: Bot) -> None:
    sb.user_sends(ANN, "/start")
    sb.world.test_environment = True  # "you may use HTTP URLs without TLS to test your Mini App"
    await bot.send_message(ANN, "dashboard", reply_markup=_keyboard("http://127.0.0.1:8090/"))
    assert len(sb.sent_messages(ANN)) == 1


async def test_no_web_app_button_in_a_group(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(GROUP, "dashboard", reply_markup=_keyboard("https://d.example/"))
    sent = await bot.send_message(GROUP, "plain")
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.edit_message_reply_markup(
            chat_id=GROUP, message_id=sent.message_id, reply_markup=_keyboard("https://d.example/")
        )
