"""Chat and member methods, commands, and the HTML parse-mode checker."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import BotCommand

from sandbox import TelegramSandbox
from sandbox.html import HtmlError, parse_html

from .conftest import ANN, BOB, GROUP


async def test_chat_and_admins(sb: TelegramSandbox, bot: Bot) -> None:
    sb.set_admin(GROUP, ANN, "creator")
    sb.set_admin(GROUP, BOB, "administrator")
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "Brand Club")
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id: a.status for a in admins} == {
        sb.bot_id: "administrator",
        ANN: "creator",
        BOB: "administrator",
    }
    assert await bot.get_chat_member_count(GROUP) == 3
    sb.set_admin(GROUP, BOB, "member")
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-42)


async def test_commands_and_revoked_link(sb: TelegramSandbox, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="Begin")])
    assert sb.commands == {"default:": [{"command": "start", "description": "Begin"}]}
    link = await bot.create_chat_invite_link(GROUP)
    revoked = await bot.revoke_chat_invite_link(GROUP, link.invite_link)
    assert revoked.is_revoked and sb.invite_links[0]["is_revoked"]


async def test_decline_unknown_request_and_webhook_conflict(sb: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.decline_chat_join_request(GROUP, ANN)
    sb.join_request(GROUP, ANN)
    assert await bot.decline_chat_join_request(GROUP, ANN)
    assert sb.declined_requests == [(GROUP, ANN)]
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert sb.pending_updates() == 0 and await bot.get_updates() == []


def test_html_parser_entities_and_offsets() -> None:
    parsed = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://x.org/?a=1&amp;b=2">l</a> &lt;3 &#65; &nbsp;'
    )
    assert parsed.text == "😀 bold both l <3 A &nbsp;"
    assert parsed.entities == [
        {"offset": 3, "length": 9, "type": "bold"},  # the emoji is 2 UTF-16 units
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 13, "length": 1, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
    ]
    with pytest.raises(HtmlError, match='must have class "tg-spoiler"'):
        parse_html("<span>x</span>")
    assert parse_html('<span class="tg-spoiler">x</span>').entities[0]["type"] == "spoiler"
    with pytest.raises(HtmlError, match="Unexpected end tag"):
        parse_html("x</b>")
