"""Command menus: setMyCommands, getMyCommands and deleteMyCommands with every scope, refused
as Telegram refuses them, and the menu a user sees where (Telegram's order of scopes)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SetMyCommands
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
)

from sandbox import TelegramSandbox

from .conftest import ANN, BOB, GROUP

Scope = (
    BotCommandScopeDefault
    | BotCommandScopeAllPrivateChats
    | BotCommandScopeAllGroupChats
    | BotCommandScopeAllChatAdministrators
    | BotCommandScopeChat
    | BotCommandScopeChatAdministrators
    | BotCommandScopeChatMember
)


def menu(*names: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=f"about {name}") for name in names]


def names(commands: list[dict[str, Any]]) -> list[str]:
    return [command["command"] for command in commands]


async def test_every_scope_is_filed_apart(sb: TelegramSandbox, bot: Bot) -> None:
    scopes: list[Scope] = [
        BotCommandScopeDefault(),
        BotCommandScopeAllPrivateChats(),
        BotCommandScopeAllGroupChats(),
        BotCommandScopeAllChatAdministrators(),
        BotCommandScopeChat(chat_id=GROUP),
        BotCommandScopeChat(chat_id=ANN),
        BotCommandScopeChatAdministrators(chat_id=GROUP),
        BotCommandScopeChatMember(chat_id=GROUP, user_id=BOB),
    ]
    for index, scope in enumerate(scopes):
        assert await bot.set_my_commands(menu(f"c{index}"), scope=scope)
    assert await bot.set_my_commands(
        menu("zh"), scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert set(sb.commands) == {
        "default:",
        "all_private_chats:",
        "all_group_chats:",
        "all_chat_administrators:",
        f"chat:{GROUP}:",
        f"chat:{ANN}:",
        f"chat_administrators:{GROUP}:",
        f"chat_member:{GROUP}:{BOB}:",
        "all_private_chats:zh",
    }
    for index, scope in enumerate(scopes):
        got = await bot.get_my_commands(scope=scope)
        assert [c.command for c in got] == [f"c{index}"]
    # getMyCommands answers the exact scope and language: no fallback
    assert (
        await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en") == []
    )
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=ANN))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=ANN)) == []
    assert f"chat:{ANN}:" not in sb.commands
    # an empty list deletes too
    assert await bot.set_my_commands([], scope=BotCommandScopeAllGroupChats())
    assert "all_group_chats:" not in sb.commands


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        (BotCommandScopeChat(chat_id=-42), "Bad Request: chat not found"),
        (BotCommandScopeChat(chat_id=999), "Bad Request: chat not found"),
        (BotCommandScopeChatAdministrators(chat_id=-42), "Bad Request: chat not found"),
        (BotCommandScopeChat(chat_id="@nobody"), "Bad Request: chat not found"),
        (
            BotCommandScopeChatAdministrators(chat_id=ANN),
            "Bad Request: can't use specified scope in private chats",
        ),
        (
            BotCommandScopeChatMember(chat_id=ANN, user_id=ANN),
            "Bad Request: can't use specified scope in private chats",
        ),
        (BotCommandScopeChatMember(chat_id=GROUP, user_id=999), "Bad Request: user not found"),
    ],
)
async def test_scopes_refused_like_telegram(
    sb: TelegramSandbox, bot: Bot, scope: Any, error: str
) -> None:
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.set_my_commands(menu("help"), scope=scope)
    assert raised.value.message == error
    with pytest.raises(TelegramBadRequest, match=error.removeprefix("Bad Request: ")):
        await bot.delete_my_commands(scope=scope)
    assert sb.commands == {}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"scope": {"type": "everyone"}},
            "can't parse BotCommandScope: Unsupported type specified",
        ),
        ({"scope": {"type": "chat"}}, "can't parse BotCommandScope: Can't find field \"chat_id\""),
        (
            {"scope": {"type": "chat_member", "chat_id": GROUP}},
            "can't parse BotCommandScope: Can't find field \"user_id\"",
        ),
        (
            {"scope": {"type": "chat_member", "chat_id": GROUP, "user_id": -5}},
            "can't parse BotCommandScope: Invalid user_id specified",
        ),
        ({"language_code": "english"}, "invalid language code specified"),
        ({"commands": [{"command": "Bad Command", "description": "x"}]}, "BOT_COMMAND_INVALID"),
        ({"commands": [{"command": "x" * 33, "description": "x"}]}, "BOT_COMMAND_INVALID"),
        ({"commands": [{"command": "ok", "description": ""}]}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            {"commands": [{"command": "ok", "description": "x" * 257}]},
            "BOT_COMMAND_DESCRIPTION_INVALID",
        ),
        (
            {"commands": [{"command": f"c{i}", "description": "x"} for i in range(101)]},
            "BOT_COMMANDS_TOO_MUCH",
        ),
    ],
)
async def test_malformed_calls_refused(
    sb: TelegramSandbox, http: aiohttp.ClientSession, params: dict[str, Any], error: str
) -> None:
    body = {"commands": [{"command": "help", "description": "Help"}], **params}
    async with http.post(f"{sb.url}/bot{sb.token}/setMyCommands", json=body) as resp:
        answer = await resp.json()
    assert resp.status == 400 and answer == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: {error}",
    }
    assert sb.commands == {}


async def test_the_menu_a_user_sees(sb: TelegramSandbox, bot: Bot) -> None:
    sb.set_admin(GROUP, ANN, "administrator")
    sb.set_admin(GROUP, BOB, "member")
    assert sb.visible_commands(ANN, ANN) == []
    await bot.set_my_commands(menu("default"))
    await bot.set_my_commands(menu("private"), scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(
        menu("privat_zh"), scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    await bot.set_my_commands(menu("ann"), scope=BotCommandScopeChat(chat_id=ANN))
    await bot.set_my_commands(menu("admins"), scope=BotCommandScopeAllChatAdministrators())
    assert names(sb.visible_commands(ANN, ANN, "zh")) == ["ann"]
    assert names(sb.visible_commands(BOB, BOB, "zh")) == ["privat_zh"]
    assert names(sb.visible_commands(BOB, BOB, "en")) == ["private"]
    assert names(sb.visible_commands(GROUP, BOB)) == ["default"]
    assert names(sb.visible_commands(GROUP, ANN)) == ["admins"]
    await bot.set_my_commands(menu("group"), scope=BotCommandScopeChat(chat_id=GROUP))
    await bot.set_my_commands(
        menu("bob"), scope=BotCommandScopeChatMember(chat_id=GROUP, user_id=BOB)
    )
    assert names(sb.visible_commands(GROUP, ANN)) == ["group"]
    assert names(sb.visible_commands(GROUP, BOB)) == ["bob"]
    await bot(
        SetMyCommands(commands=menu("hq"), scope=BotCommandScopeChatAdministrators(chat_id=GROUP))
    )
    assert names(sb.visible_commands(GROUP, ANN)) == ["hq"]
