"""The sandbox's Telegram world: the bot, users, chats, memberships, messages and links.

Everything here is plain state plus builders of Telegram-shaped objects (``User``, ``Chat``,
``ChatMember``, ``Message``); the Bot API methods and the user actions both work on it.
Private chat ids equal user ids; groups are added with (negative) ids of their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from .errors import bad_request, forbidden
from .limits import Limits, RateLimiter
from .records import SentFile, SentMessage
from .updates import UpdateQueue
from .webhook import WebhookPusher

BOT_USERNAME = "sopbot_sandbox_bot"

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": True,
    "can_pin_messages": True,
}
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
#: what a member may do (ChatPermissions); a restriction sets some of them to false
PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
#: a bot may delete others' messages in a group for this long after they were sent (seconds)
DELETE_WINDOW = 48 * 3600


class World:
    """All state of the fake Telegram, driven by one clock (epoch seconds)."""

    def __init__(self, token: str, clock: Callable[[], float], limits: Limits) -> None:
        self.token = token
        self.clock = clock
        self.bot_id = int(token.split(":", 1)[0])
        #: the bot as it appears in messages, links and members
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "SOP Sandbox Bot",
            "username": BOT_USERNAME,
        }
        #: the bot as ``getMe`` describes it
        self.bot_me: dict[str, Any] = {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.limiter = RateLimiter(limits)
        self.updates = UpdateQueue()
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.members: dict[int, dict[int, str]] = {}
        self.blocked: set[int] = set()
        self.dm_allowed: set[int] = set()
        #: Telegram's test environment: Mini Apps (``web_app`` buttons) may be plain http there
        self.test_environment = False
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.bot_messages: dict[tuple[int, int], SentMessage] = {}
        self.sent: list[SentMessage] = []
        self.files: list[SentFile] = []
        self.invite_links: list[dict[str, Any]] = []
        self.join_requests: dict[tuple[int, int], str | None] = {}
        #: a group's default permissions (``getChat``'s ``permissions``; all true unless the
        #: owner set them): what a member who is not restricted may do
        self.chat_permissions: dict[int, dict[str, bool]] = {}
        #: a requester who never started the bot may be written to until then (epoch seconds)
        self.requester_window: dict[int, float] = {}
        self.approved: list[tuple[int, int]] = []
        self.declined: list[tuple[int, int]] = []
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        #: pushes the queued updates to ``webhook_url`` (``setWebhook``)
        self.webhook = WebhookPusher(self.updates, self.now)
        #: forum topics: chat id -> thread id -> name
        self.topics: dict[int, dict[int, str]] = {}
        self._last_message_id: dict[int, int] = {}
        #: the bot's admin rights per chat where they differ from full rights (``set_bot_rights``)
        self.bot_rights: dict[int, dict[str, bool]] = {}
        #: (chat, user) → {"permissions": {...}, "until": epoch seconds, 0 = forever}
        self.restrictions: dict[tuple[int, int], dict[str, Any]] = {}
        #: (chat, user) → ban end (epoch seconds, 0 = forever)
        self.bans: dict[tuple[int, int], int] = {}
        #: pinned message ids per chat, the latest last
        self.pinned: dict[int, list[int]] = {}
        #: ``(chat_id, message_id, at)`` of every message the bot deleted
        self.deleted: list[tuple[int, int, float]] = []

    # -- time -------------------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox clock, epoch seconds."""
        return float(self.clock())

    def date(self) -> int:
        """The sandbox clock as a Telegram ``date``."""
        return int(self.now())

    # -- users and chats --------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        """A known user's ``User`` object; ``ValueError`` for an unknown one (a test mistake)."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"sandbox: unknown user {user_id}; call add_user() first") from None

    def group(self, chat_id: int) -> dict[str, Any]:
        """A known group's ``Chat`` object; ``ValueError`` for an unknown one."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ValueError(f"sandbox: unknown chat {chat_id}; call add_chat() first") from None

    def private_chat(self, user_id: int) -> dict[str, Any]:
        """The ``Chat`` object of the private chat between the bot and a user."""
        user = self.user(user_id)
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        if user.get("username"):
            chat["username"] = user["username"]
        return chat

    def chat(self, chat_id: int) -> dict[str, Any]:
        """A group or private ``Chat``; ``400 chat not found`` when neither exists."""
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id in self.users:
            return self.private_chat(chat_id)
        raise bad_request("chat not found")

    def chat_for_bot_message(self, raw_chat_id: Any) -> dict[str, Any]:
        """The chat the bot wants to write to, refused exactly as Telegram would."""
        if not isinstance(raw_chat_id, int):
            if raw_chat_id in (None, ""):
                raise bad_request("chat_id is empty")
            raise bad_request("chat not found")
        chat = self.chat(raw_chat_id)
        if chat["type"] == "private":
            user = self.users[raw_chat_id]
            if user["is_bot"]:
                raise forbidden("bot can't send messages to bots")
            if raw_chat_id in self.blocked:
                raise forbidden("bot was blocked by the user")
            if raw_chat_id not in self.dm_allowed and not self.may_write_requester(raw_chat_id):
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def may_write_requester(self, user_id: int) -> bool:
        """A user who only sent a join request may be written to for five minutes, until the
        request is handled (``user_chat_id`` in Telegram's ``ChatJoinRequest``)."""
        until = self.requester_window.get(user_id, 0.0)
        pending = any(user == user_id for _, user in self.join_requests)
        return pending and self.now() < until

    def group_for_admin(self, raw_chat_id: Any) -> dict[str, Any]:
        """A group for an admin-only method (invite links, join requests)."""
        chat = self.chat(raw_chat_id) if isinstance(raw_chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat["type"] == "private":
            raise bad_request("method is available for supergroup and channel chats only")
        return chat

    # -- membership -------------------------------------------------------------------------

    def status(self, chat_id: int, user_id: int) -> str:
        """A user's status in a group (the bot is an administrator everywhere, unless
        ``bot_rights`` says it was demoted: then a member). A restriction or ban whose
        ``until_date`` has passed is over."""
        if user_id == self.bot_id:
            rights = self.bot_rights.get(chat_id)
            return "member" if rights is not None and not rights else "administrator"
        status = self.members.get(chat_id, {}).get(user_id, "left")
        if status == "restricted":
            until = self.restrictions.get((chat_id, user_id), {}).get("until", 0)
            if until and until <= self.now():
                self.restrictions.pop((chat_id, user_id), None)
                self.members[chat_id][user_id] = status = "member"
        elif status == "kicked":
            until = self.bans.get((chat_id, user_id), 0)
            if until and until <= self.now():
                self.bans.pop((chat_id, user_id), None)
                self.members[chat_id][user_id] = status = "left"
        return status

    def bot_can(self, chat_id: int, right: str) -> bool:
        """Whether the bot holds an admin right in a group."""
        rights = self.bot_rights.get(chat_id)
        if rights is None:
            return bool(_ADMIN_RIGHTS.get(right))
        return bool(rights.get(right))

    def may_post(self, chat_id: int, user_id: int) -> bool:
        """Whether a user may send a text message in a group now."""
        status = self.status(chat_id, user_id)
        if status == "kicked":
            return False
        if status == "restricted":
            permissions = self.restrictions.get((chat_id, user_id), {}).get("permissions", {})
            return bool(permissions.get("can_send_messages", True))
        if status == "member":  # the group's defaults bind every plain member
            return self.default_permissions(chat_id)["can_send_messages"]
        return True

    def default_permissions(self, chat_id: int) -> dict[str, bool]:
        """A group's default member permissions (all true unless the owner changed them)."""
        given = self.chat_permissions.get(chat_id, {})
        return {key: bool(given.get(key, True)) for key in PERMISSIONS}

    def set_status(self, chat_id: int, user_id: int, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"sandbox: unknown member status {status!r}")
        self.members.setdefault(chat_id, {})[user_id] = status

    def member(self, chat_id: int, user_id: int, status: str | None = None) -> dict[str, Any]:
        """A ``ChatMember`` object for ``user_id`` (current status unless given)."""
        user = self.bot_user if user_id == self.bot_id else self.user(user_id)
        status = status or self.status(chat_id, user_id)
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(_ADMIN_RIGHTS)
            if self.chats.get(chat_id, {}).get("is_forum"):
                member["can_manage_topics"] = True
            if user_id == self.bot_id and chat_id in self.bot_rights:
                member.update({k: bool(self.bot_rights[chat_id].get(k)) for k in _ADMIN_RIGHTS})
                if "can_manage_topics" in member:  # a forum's right, given like the others
                    member["can_manage_topics"] = bool(
                        self.bot_rights[chat_id].get("can_manage_topics")
                    )
                member["can_be_edited"] = False
        elif status == "kicked":
            member["until_date"] = self.bans.get((chat_id, user_id), 0)
        elif status == "restricted":
            restriction = self.restrictions.get((chat_id, user_id), {})
            permissions = restriction.get("permissions", {})
            member["is_member"] = True
            member.update({k: bool(permissions.get(k, True)) for k in PERMISSIONS})
            member["until_date"] = restriction.get("until", 0)
        return member

    def bot_right(self, chat_id: int, right: str) -> bool:
        """Whether the bot (an administrator everywhere) holds ``right`` in ``chat_id``."""
        return bool(self.member(chat_id, self.bot_id).get(right, False))

    def member_ids(self, chat_id: int, statuses: tuple[str, ...]) -> list[int]:
        """Users of a group whose status is one of ``statuses`` (the bot included)."""
        ids = [uid for uid, st in self.members.get(chat_id, {}).items() if st in statuses]
        if "administrator" in statuses and self.bot_id not in ids:
            ids.insert(0, self.bot_id)
        return ids

    # -- messages ---------------------------------------------------------------------------

    def new_message(
        self, chat: dict[str, Any], sender: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        """Create and store a ``Message`` in ``chat``; ids increase per chat."""
        chat_id = chat["id"]
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": self.date(),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        self.messages[(chat_id, message_id)] = message
        return message

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A stored message (current state), or ``None``."""
        return self.messages.get((chat_id, message_id))

    def reply_target(
        self, chat_id: int, message_id: int | None, allow_missing: bool = False
    ) -> dict[str, Any] | None:
        """The message being replied to, shallow (without its own reply)."""
        if message_id is None:
            return None
        target = self.message(chat_id, message_id)
        if target is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    # -- invite links -----------------------------------------------------------------------

    def new_invite_link(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        """A ``ChatInviteLink`` created by the bot, with a unique URL."""
        link: dict[str, Any] = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
            "creator": self.bot_user,
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
            "chat_id": chat_id,
        }
        link.update({key: value for key, value in fields.items() if value is not None})
        self.invite_links.append(link)
        return link

    def find_invite_link(self, url: str) -> dict[str, Any] | None:
        """A link the bot created, by URL."""
        return next((link for link in self.invite_links if link["invite_link"] == url), None)

    def link_object(self, url: str | None) -> dict[str, Any] | None:
        """The ``ChatInviteLink`` to put in an update (created by the bot, or made up)."""
        if url is None:
            return None
        link = self.find_invite_link(url)
        if link is None:
            return {
                "invite_link": url,
                "creator": self.bot_user,
                "creates_join_request": False,
                "is_primary": False,
                "is_revoked": False,
            }
        return {key: value for key, value in link.items() if key != "chat_id"}
