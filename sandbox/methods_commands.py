"""The bot's command menus: ``setMyCommands``, ``getMyCommands``, ``deleteMyCommands`` with every
``BotCommandScope``, refused as Telegram's Bot API server refuses them (its scope parsing, then
the chat check, then TDLib's rules for private chats); and which list a user sees where, in the
order Telegram looks (``visible_commands``). Same contract as :mod:`sandbox.methods_messages`.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request
from .world import World

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
#: scopes that name no chat
_GLOBAL = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
#: scopes that name a chat (``chat_member`` a user in it too)
_IN_CHAT = ("chat", "chat_administrators", "chat_member")
_ADMINS = ("creator", "administrator")


def scope_key(
    scope_type: str,
    chat_id: int | None = None,
    user_id: int | None = None,
    language_code: str = "",
) -> str:
    """How a menu is filed: ``"<type>[:<chat>[:<user>]]:<language code>"`` (``"default:"``,
    ``"all_private_chats:zh"``, ``"chat:-1002001:"``, ``"chat_member:-1002001:101:en"``)."""
    parts = [scope_type, *(str(part) for part in (chat_id, user_id) if part is not None)]
    return ":".join([*parts, language_code])


def _scope(world: World, params: dict[str, Any]) -> str:
    """The scope's key, or Telegram's 400 for a scope it would not take."""
    raw = params.get("scope")
    language = str(params.get("language_code") or "")
    if language and not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    if raw is None or raw == "":
        return scope_key("default", language_code=language)
    if not isinstance(raw, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise bad_request('can\'t parse BotCommandScope: Field "type" must be of type String')
    if kind in _GLOBAL:
        return scope_key(kind, language_code=language)
    if kind not in _IN_CHAT:
        raise bad_request("can't parse BotCommandScope: Unsupported type specified")
    if "chat_id" not in raw:
        raise bad_request("can't parse BotCommandScope: Can't find field \"chat_id\"")
    chat_id = _chat_id(raw["chat_id"])
    user_id: int | None = None
    if kind == "chat_member":
        user = raw.get("user_id")
        if user is None:
            raise bad_request("can't parse BotCommandScope: Can't find field \"user_id\"")
        if not isinstance(user, int) or isinstance(user, bool) or user <= 0:
            raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
        user_id = user
    chat = world.chat(chat_id)  # 400 chat not found
    if chat["type"] == "private" and kind != "chat":
        raise bad_request("can't use specified scope in private chats")
    if user_id is not None and user_id not in world.users:
        raise bad_request("user not found")
    return scope_key(kind, chat_id, user_id, language)


def _chat_id(raw: Any) -> int:
    """``chat_id`` of a scope: a number, or a string of one (an ``@username`` the sandbox does
    not resolve: chat not found)."""
    if isinstance(raw, bool):
        raise bad_request("chat not found")
    if isinstance(raw, int):
        return raw
    text = str(raw)
    if text == "":
        raise bad_request("can't parse BotCommandScope: Empty chat_id specified")
    try:
        return int(text)
    except ValueError:
        raise bad_request("chat not found") from None


def set_my_commands(world: World, params: dict[str, Any]) -> bool:
    """``setMyCommands``: up to 100 commands, each 1-32 of ``[a-z0-9_]`` with a description of
    1-256 characters; an empty list deletes the scope's menu."""
    commands = params.get("commands")
    if commands is None or commands == "":
        commands = []
    if not isinstance(commands, list):
        raise bad_request("expected an Array of BotCommand")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        if not _COMMAND.fullmatch(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = _scope(world, params)
    if commands:
        world.commands[key] = [
            {"command": str(c["command"]), "description": str(c["description"])} for c in commands
        ]
    else:
        world.commands.pop(key, None)
    return True


def delete_my_commands(world: World, params: dict[str, Any]) -> bool:
    """``deleteMyCommands``: the scope falls back to the next one Telegram looks at."""
    world.commands.pop(_scope(world, params), None)
    return True


def get_my_commands(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``getMyCommands``: the list of exactly this scope and language (no fallback)."""
    return [dict(command) for command in world.commands.get(_scope(world, params), [])]


def visible_commands(
    world: World, chat_id: int, user_id: int, language_code: str = ""
) -> list[dict[str, Any]]:
    """The menu ``user_id`` sees in ``chat_id``: the first scope set, in Telegram's order (each
    with the user's language first, then without)."""
    order: list[tuple[str, int | None, int | None]]
    if world.chat(chat_id)["type"] == "private":
        order = [("chat", chat_id, None), ("all_private_chats", None, None)]
    else:
        admin = world.status(chat_id, user_id) in _ADMINS
        order = [
            ("chat_member", chat_id, user_id),
            *([("chat_administrators", chat_id, None)] if admin else []),
            ("chat", chat_id, None),
            *([("all_chat_administrators", None, None)] if admin else []),
            ("all_group_chats", None, None),
        ]
    order.append(("default", None, None))
    for kind, chat, user in order:
        for language in ([language_code] if language_code else []) + [""]:
            found = world.commands.get(scope_key(kind, chat, user, language))
            if found:
                return [dict(command) for command in found]
    return []


HANDLERS = {
    "setMyCommands": set_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getMyCommands": get_my_commands,
}
