"""Bot API methods about the bot itself and its chats: identity, webhook, members, invite links
and join requests (the command menus: :mod:`sandbox.methods_commands`). Same contract as
:mod:`sandbox.methods_messages`.

Join requests: ``approveChatJoinRequest`` / ``declineChatJoinRequest`` need the bot's *invite
users* right ("CHAT_ADMIN_REQUIRED") and a request still pending ("HIDE_REQUESTER_MISSING" once
it was handled); the bot may write to a requester who never started it for five minutes, until
the request is handled (:meth:`World.may_write_requester`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .actions import join_service_message, member_update
from .errors import bad_request
from .params import optional_int, require
from .webhook import DEFAULT_MAX_CONNECTIONS
from .world import World

#: what Telegram allows in ``secret_token`` (1-256 characters)
SECRET_ALLOWED = re.compile(r"[A-Za-z0-9_-]+")
SECRET_MAX = 256
_PRESENT = ("creator", "administrator", "member", "restricted")


def get_me(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``getMe``."""
    return world.bot_me


def ok(world: World, params: dict[str, Any]) -> bool:
    """``logOut``/``close``: nothing to do."""
    return True


def set_webhook(world: World, params: dict[str, Any]) -> bool:
    """``setWebhook``: from now on the updates are POSTed to ``url`` (:mod:`sandbox.webhook`)
    and ``getUpdates`` answers 409. As a local Bot API server (``--local``) the sandbox takes
    ``http://`` URLs on any port; Telegram's cloud wants HTTPS on 443, 80, 88 or 8443. An
    empty ``url`` removes the webhook."""
    url = str(params.get("url") or "")
    secret = params.get("secret_token")
    secret = "" if secret is None else str(secret)
    if len(secret) > SECRET_MAX:
        raise bad_request("secret token is too long")
    if secret and not SECRET_ALLOWED.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.get("allowed_updates")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed updates JSON object")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if params.get("drop_pending_updates"):
        world.updates.clear()
    if not url:
        return delete_webhook(world, params)
    connections = optional_int(params, "max_connections")
    world.webhook_url = url
    world.webhook.configure(
        url,
        secret_token=secret,
        max_connections=min(max(connections or DEFAULT_MAX_CONNECTIONS, 1), 100),
        allowed_updates=allowed,
    )
    return True


def delete_webhook(world: World, params: dict[str, Any]) -> bool:
    """``deleteWebhook``: pushing stops; ``getUpdates`` works again."""
    world.webhook_url = ""
    world.webhook.remove()
    if params.get("drop_pending_updates"):
        world.updates.clear()
    return True


def get_webhook_info(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``getWebhookInfo``: the URL, the updates not yet taken, the last delivery error."""
    pending = world.updates.unconfirmed() if world.webhook_url else world.updates.pending()
    return world.webhook.info(world.webhook_url, pending)


def get_chat(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``getChat``: a ``ChatFullInfo``."""
    chat = world.chat(_chat_id(world, params))
    extra = (
        {} if chat["type"] == "private" else {"permissions": world.default_permissions(chat["id"])}
    )
    return {
        **chat,
        **extra,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def _chat_id(world: World, params: dict[str, Any]) -> int:
    chat_id = require(params, "chat_id")
    if not isinstance(chat_id, int):
        raise bad_request("chat not found")
    world.chat(chat_id)
    return int(chat_id)


def get_chat_member(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``getChatMember``."""
    chat_id = _chat_id(world, params)
    user_id = require(params, "user_id")
    if user_id != world.bot_id and user_id not in world.users:
        raise bad_request("user not found")
    if chat_id == user_id:
        return world.member(chat_id, user_id, "member")
    return world.member(chat_id, user_id)


def get_chat_administrators(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``getChatAdministrators`` (the bot included)."""
    chat_id = _chat_id(world, params)
    return [
        world.member(chat_id, uid)
        for uid in world.member_ids(chat_id, ("creator", "administrator"))
    ]


def get_chat_member_count(world: World, params: dict[str, Any]) -> int:
    """``getChatMemberCount`` (the bot included)."""
    chat_id = _chat_id(world, params)
    if chat_id in world.users:
        return 2
    return len(world.member_ids(chat_id, _PRESENT))


def create_chat_invite_link(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``createChatInviteLink``: a new unique ``https://t.me/+...`` link."""
    chat = world.group_for_admin(params.get("chat_id"))
    name = params.get("name")
    if name is not None and len(str(name)) > 32:
        raise bad_request("invite link name must be at most 32 characters long")
    member_limit = optional_int(params, "member_limit")
    if member_limit is not None and not 1 <= member_limit <= 99999:
        raise bad_request("member limit must be between 1 and 99999")
    joins_by_request = bool(params.get("creates_join_request"))
    if joins_by_request and member_limit is not None:
        raise bad_request(
            "member limit can't be specified for links requiring administrator approval"
        )
    link = world.new_invite_link(
        chat["id"],
        name=name,
        member_limit=member_limit,
        expire_date=optional_int(params, "expire_date"),
        creates_join_request=joins_by_request,
    )
    return {key: value for key, value in link.items() if key != "chat_id"}


def revoke_chat_invite_link(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``revokeChatInviteLink``."""
    chat = world.group_for_admin(params.get("chat_id"))
    link = world.find_invite_link(str(require(params, "invite_link")))
    if link is None or link["chat_id"] != chat["id"]:
        raise bad_request("INVITE_HASH_EXPIRED")
    link["is_revoked"] = True
    return {key: value for key, value in link.items() if key != "chat_id"}


def _pending_request(world: World, params: dict[str, Any]) -> tuple[int, int, str | None]:
    chat = world.group_for_admin(params.get("chat_id"))
    user_id = require(params, "user_id")
    if not world.bot_can(chat["id"], "can_invite_users"):
        raise bad_request("CHAT_ADMIN_REQUIRED")  # handling requests needs "invite users"
    key = (chat["id"], user_id)
    if key not in world.join_requests:
        raise bad_request("HIDE_REQUESTER_MISSING")
    return chat["id"], user_id, world.join_requests.pop(key)


def approve_chat_join_request(world: World, params: dict[str, Any]) -> bool:
    """``approveChatJoinRequest``: the user joins (``chat_member`` + service message)."""
    chat_id, user_id, link = _pending_request(world, params)
    world.approved.append((chat_id, user_id))
    member_update(
        world,
        chat_id,
        user_id,
        world.status(chat_id, user_id),
        "member",
        link,
        via_join_request=True,
    )
    join_service_message(world, chat_id, user_id)
    return True


def decline_chat_join_request(world: World, params: dict[str, Any]) -> bool:
    """``declineChatJoinRequest``."""
    chat_id, user_id, _ = _pending_request(world, params)
    world.declined.append((chat_id, user_id))
    return True


HANDLERS = {
    "getMe": get_me,
    "logOut": ok,
    "close": ok,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "createChatInviteLink": create_chat_invite_link,
    "revokeChatInviteLink": revoke_chat_invite_link,
    "approveChatJoinRequest": approve_chat_join_request,
    "declineChatJoinRequest": decline_chat_join_request,
}
