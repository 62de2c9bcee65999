"""Bot API methods of community order: deleting messages, restricting, banning and unbanning
members, pinning. Same contract as :mod:`sandbox.methods_messages`.

The model the sandbox enforces (Telegram publishes no rate limit for these calls):

- ``deleteMessage`` / ``deleteMessages`` need ``can_delete_messages`` in a group (the bot's own
  messages excepted) and a message under 48 hours old; ``deleteMessages`` takes 1-100 ids,
  skips those it cannot delete and fails only when it deleted none (with "message can't be
  deleted" when one was refused for rights or age, else "message to delete not found"); an
  empty list is "message identifiers are not specified". Neither counts against the
  per-chat message limits; both count against the global 30 requests a second, like any call
  (checked by :mod:`sandbox.limits` for messages only, so not here).
- ``restrictChatMember`` with every sending permission true lifts a restriction: the member is
  a plain member again, bound by the group's default permissions (``getChat``'s
  ``permissions``, :meth:`UserActions.set_chat_permissions`).
- ``restrictChatMember`` / ``banChatMember`` / ``unbanChatMember`` need ``can_restrict_members``,
  refuse administrators and the owner, queue the ``chat_member`` update the change causes and
  take ``until_date``: under 30 seconds or over 366 days from now means forever. A muted or
  banned member's user-side ``sendMessage`` is refused (:meth:`UserActions.user_sends`), and a
  banned user cannot join (:meth:`UserActions.user_joins` raises ``JoinRefused``) until
  ``unbanChatMember``. ``unbanChatMember`` with ``only_if_banned`` leaves a member who is not
  banned where they are; without it, a member is removed. These three count against the bot's
  30 requests a second (:meth:`RateLimiter.check_global`: a 429 past it), not against the
  chat's message limits.
- ``pinChatMessage`` needs ``can_pin_messages``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .actions import member_update
from .errors import bad_request
from .params import optional_int, require
from .world import DELETE_WINDOW, PERMISSIONS, World

MAX_DELETE = 100
RESTRICT_RIGHTS = "not enough rights to restrict/unrestrict chat member"
FOREVER_UNDER, FOREVER_OVER = 30, 366 * 86400
Handler = Callable[[World, dict[str, Any]], bool]


def _group(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat_id = require(params, "chat_id")
    if not isinstance(chat_id, int):
        raise bad_request("chat not found")
    return world.chat(chat_id)


def _deletable(world: World, chat: dict[str, Any], message_id: Any) -> str | None:
    """Why a message cannot be deleted (``None``: it can)."""
    if not isinstance(message_id, int):
        return "message identifier is not specified"
    message = world.message(chat["id"], message_id)
    if message is None:
        return "message to delete not found"
    if chat["type"] == "private":
        return None
    own = message["from"].get("id") == world.bot_id
    if not own and not world.bot_can(chat["id"], "can_delete_messages"):
        return "message can't be deleted"
    if world.now() - message["date"] > DELETE_WINDOW:
        return "message can't be deleted"
    return None


def _delete(world: World, chat_id: int, message_id: int) -> None:
    world.messages.pop((chat_id, message_id), None)
    world.bot_messages.pop((chat_id, message_id), None)
    world.deleted.append((chat_id, message_id, world.now()))


def delete_message(world: World, params: dict[str, Any]) -> bool:
    """``deleteMessage``."""
    chat = _group(world, params)
    message_id = require(params, "message_id", "message identifier is not specified")
    reason = _deletable(world, chat, message_id)
    if reason is not None:
        raise bad_request(reason)
    _delete(world, chat["id"], message_id)
    return True


def delete_messages(world: World, params: dict[str, Any]) -> bool:
    """``deleteMessages``: 1-100 ids; those that cannot be deleted are skipped."""
    chat = _group(world, params)
    ids = params.get("message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message identifiers are not specified")
    if len(ids) > MAX_DELETE:
        raise bad_request("too many message identifiers specified")
    deleted = 0
    refused: list[str] = []
    for message_id in dict.fromkeys(ids):
        reason = _deletable(world, chat, message_id)
        if reason is None:
            _delete(world, chat["id"], message_id)
            deleted += 1
        else:
            refused.append(reason)
    if not deleted:  # none went: the reason of a single deleteMessage, a refusal first
        cannot = "message can't be deleted"
        raise bad_request(cannot if cannot in refused else "message to delete not found")
    return True


def _until(params: dict[str, Any], now: float) -> int:
    """``until_date`` as Telegram reads it: 0 (forever) when absent, too near or too far."""
    until = optional_int(params, "until_date") or 0
    if until and not FOREVER_UNDER <= until - now <= FOREVER_OVER:
        return 0
    return until


def _target(world: World, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    chat = world.group_for_admin(params.get("chat_id"))
    user_id = require(params, "user_id")
    if user_id != world.bot_id and user_id not in world.users:
        raise bad_request("user not found")
    if user_id == world.bot_id:
        raise bad_request("can't restrict self")
    if not world.bot_can(chat["id"], "can_restrict_members"):
        raise bad_request(RESTRICT_RIGHTS)
    status = world.status(chat["id"], user_id)
    if status == "creator":
        raise bad_request("can't remove chat owner")
    if status == "administrator":
        raise bad_request("user is an administrator of the chat")
    world.limiter.check_global(world.now())
    return chat, user_id


def _counted(handler: Handler) -> Handler:
    """The call takes a slot of the bot's requests a second once it succeeded."""

    def counted(world: World, params: dict[str, Any]) -> bool:
        result = handler(world, params)
        world.limiter.take_global(world.now())
        return result

    return counted


def restrict_chat_member(world: World, params: dict[str, Any]) -> bool:
    """``restrictChatMember``: all permissions true lifts the restriction."""
    chat, user_id = _target(world, params)
    permissions = params.get("permissions")
    if not isinstance(permissions, dict):
        raise bad_request("can't parse permissions JSON object")
    unknown = [key for key in permissions if key not in PERMISSIONS]
    if unknown:
        raise bad_request(f"can't parse permissions JSON object: unknown field {unknown[0]}")
    old = world.status(chat["id"], user_id)
    if old in ("left", "kicked"):
        raise bad_request("user not found")  # not a member: nothing to restrict here
    given = {key: bool(permissions.get(key, False)) for key in PERMISSIONS}
    senders = [key for key in PERMISSIONS if key.startswith(("can_send", "can_add"))]
    if all(given[key] for key in senders):
        world.restrictions.pop((chat["id"], user_id), None)
        if old == "restricted":
            member_update(world, chat["id"], user_id, old, "member", actor=world.bot_user)
        return True
    world.restrictions[(chat["id"], user_id)] = {
        "permissions": given,
        "until": _until(params, world.now()),
    }
    world.set_status(chat["id"], user_id, "restricted")
    member_update(world, chat["id"], user_id, old, "restricted", actor=world.bot_user)
    return True


def ban_chat_member(world: World, params: dict[str, Any]) -> bool:
    """``banChatMember``: the member is removed and cannot come back until ``until_date``."""
    chat, user_id = _target(world, params)
    old = world.status(chat["id"], user_id)
    world.bans[(chat["id"], user_id)] = _until(params, world.now())
    world.restrictions.pop((chat["id"], user_id), None)
    if old != "kicked":
        member_update(world, chat["id"], user_id, old, "kicked", actor=world.bot_user)
    return True


def unban_chat_member(world: World, params: dict[str, Any]) -> bool:
    """``unbanChatMember``: a banned user may join again; without ``only_if_banned`` a member
    is removed (that is how a bot removes someone without a ban)."""
    chat, user_id = _target(world, params)
    old = world.status(chat["id"], user_id)
    if old == "kicked":
        world.bans.pop((chat["id"], user_id), None)
        world.set_status(chat["id"], user_id, "left")
        return True
    if params.get("only_if_banned") or old == "left":
        return True
    member_update(world, chat["id"], user_id, old, "left", actor=world.bot_user)
    return True


def pin_chat_message(world: World, params: dict[str, Any]) -> bool:
    """``pinChatMessage``."""
    chat = _group(world, params)
    message_id = require(params, "message_id", "message identifier is not specified")
    if chat["type"] != "private" and not world.bot_can(chat["id"], "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    if world.message(chat["id"], message_id) is None:
        raise bad_request("message to pin not found")
    world.pinned.setdefault(chat["id"], []).append(message_id)
    return True


HANDLERS = {
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "restrictChatMember": _counted(restrict_chat_member),
    "banChatMember": _counted(ban_chat_member),
    "unbanChatMember": _counted(unban_chat_member),
    "pinChatMessage": pin_chat_message,
}
