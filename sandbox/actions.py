"""What people do in the sandbox world: each action queues the Update(s) Telegram would send.

:class:`UserActions` is mixed into :class:`~sandbox.TelegramSandbox`; it needs ``self.world``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from .world import PERMISSIONS, World

#: how long the bot may write to a join requester who never started it (while it is pending)
REQUESTER_WINDOW = 5 * 60
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]] | None:
    """The ``bot_command`` entity Telegram adds to a text starting with ``/``."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}]


def member_update(
    world: World,
    chat_id: int,
    user_id: int,
    old: str,
    new: str,
    invite_link: str | None = None,
    via_join_request: bool = False,
    actor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record a status change and queue its ``chat_member`` update; return the update.
    ``actor``: who made the change (the user themselves unless given: the bot for a mute)."""
    payload: dict[str, Any] = {
        "chat": world.group(chat_id),
        "from": actor or world.user(user_id),
        "date": world.date(),
        "old_chat_member": world.member(chat_id, user_id, old),
        "new_chat_member": world.member(chat_id, user_id, new),
    }
    link = world.link_object(invite_link)
    if link is not None:
        payload["invite_link"] = link
    if via_join_request:
        payload["via_join_request"] = True
    world.set_status(chat_id, user_id, new)
    return world.updates.push("chat_member", payload)


def join_service_message(world: World, chat_id: int, user_id: int) -> dict[str, Any]:
    """Queue the ``new_chat_members`` service message that accompanies a join."""
    user = world.user(user_id)
    message = world.new_message(world.group(chat_id), user, new_chat_members=[user])
    return world.updates.push("message", message)


class PostingRefused(ValueError):
    """The user may not post in that group now (muted or banned): Telegram's app would not
    send it, so no update is queued."""


class JoinRefused(ValueError):
    """The user is banned from that group (until ``unbanChatMember`` or the ban's end):
    Telegram's app would not let them join, so no update is queued."""


class UserActions:
    """World setup and user-side actions (``user_sends``, ``user_joins``...)."""

    world: World

    # -- setup ------------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: str = "supergroup",
        title: str = "Community",
        *,
        is_forum: bool = False,
    ) -> None:
        """Add a group/supergroup/channel (negative ids) where the bot is an administrator;
        ``is_forum``: a supergroup with topics."""
        if type == "private":
            raise ValueError("sandbox: private chats come from add_user(); their id is the user's")
        if is_forum and type != "supergroup":
            raise ValueError("sandbox: only a supergroup can be a forum")
        chat: dict[str, Any] = {"id": chat_id, "type": type, "title": title}
        if is_forum:
            chat["is_forum"] = True
        self.world.chats[chat_id] = chat
        self.world.members.setdefault(chat_id, {})

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message (for everyone): it can no longer be copied or replied to."""
        if self.world.messages.pop((chat_id, message_id), None) is None:
            raise ValueError(f"sandbox: no message {message_id} in chat {chat_id}")

    def _reply_and_thread(
        self, chat: dict[str, Any], reply_to_message_id: int | None, thread_id: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        """As Telegram: a message in a forum topic that replies to nothing replies to the
        topic's first message; a reply in a forum is in the replied message's topic."""
        if reply_to_message_id is None and thread_id is not None:
            reply_to_message_id = thread_id
        reply = self.world.reply_target(chat["id"], reply_to_message_id, allow_missing=True)
        if not chat.get("is_forum"):
            return reply, None
        if thread_id is None and reply is not None:
            thread_id = reply.get("message_thread_id")
        if thread_id is not None and thread_id not in self.world.topics.get(chat["id"], {}):
            raise ValueError(f"sandbox: no topic {thread_id} in chat {chat['id']}")
        return reply, thread_id

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        username: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Add a user; return their Telegram ``User`` object."""
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self.world.users[user_id] = user
        return user

    def block_bot(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot: sends to them answer 403; queues ``my_chat_member``."""
        self.world.blocked.add(user_id)
        return self._my_chat_member(user_id, "member", "kicked")

    def unblock_bot(self, user_id: int) -> dict[str, Any]:
        """The user unblocks the bot again; queues ``my_chat_member``."""
        self.world.blocked.discard(user_id)
        return self._my_chat_member(user_id, "kicked", "member")

    def set_admin(self, chat_id: int, user_id: int, status: str = "administrator") -> None:
        """Set a user's status in a group (``administrator``, ``creator``, ``member``...)."""
        self.world.group(chat_id)
        self.world.user(user_id)
        self.world.set_status(chat_id, user_id, status)

    # -- messages ---------------------------------------------------------------------------

    def _chat_of(self, user_id: int, chat_id: int | None) -> dict[str, Any]:
        if chat_id is None or chat_id == user_id:
            if user_id in self.world.blocked:
                self.unblock_bot(user_id)  # writing to a blocked bot means pressing "Restart"
            self.world.dm_allowed.add(user_id)
            return self.world.private_chat(user_id)
        chat = self.world.group(chat_id)
        if not self.world.may_post(chat_id, user_id):
            raise PostingRefused(f"sandbox: user {user_id} may not post in {chat_id} now")
        if self.world.status(chat_id, user_id) == "left":
            self.world.set_status(chat_id, user_id, "member")
        return chat

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
        message_thread_id: int | None = None,
        caption: bool = False,
    ) -> dict[str, Any]:
        """The user writes ``text`` (to the bot when ``chat_id`` is None; in a forum topic
        with ``message_thread_id``); return the update. ``caption``: a photo with ``text`` as
        its caption (``entities`` as its ``caption_entities``). Raises :class:`PostingRefused`
        where the user is muted or banned."""
        user = self.world.user(user_id)
        chat = self._chat_of(user_id, chat_id)
        reply, thread = self._reply_and_thread(chat, reply_to_message_id, message_thread_id)
        fields: dict[str, Any]
        if caption:
            photo = {
                "file_id": f"AgAC{secrets.token_hex(8)}",
                "file_unique_id": secrets.token_hex(6),
                "width": 800,
                "height": 600,
            }
            fields = {"photo": [photo], "caption": text, "caption_entities": entities}
        else:
            entities = entities if entities is not None else command_entities(text)
            fields = {"text": text, "entities": entities}
        message = self.world.new_message(
            chat,
            user,
            reply_to_message=reply,
            message_thread_id=thread,
            is_topic_message=True if thread is not None else None,
            **fields,
        )
        return self.world.updates.push("message", message)

    def user_sends_media(
        self,
        user_id: int,
        kind: str,
        caption: str = "",
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo, video, voice, audio, document, sticker, animation or video
        note (see :func:`sandbox.methods_copy.user_sends_media`); return the update."""
        from .methods_copy import user_sends_media

        return user_sends_media(
            self,
            user_id,
            kind,
            caption,
            chat_id=chat_id,
            reply_to_message_id=reply_to_message_id,
            message_thread_id=message_thread_id,
        )

    def channel_posts(
        self,
        chat_id: int,
        channel_id: int,
        text: str,
        *,
        automatic_forward: bool = False,
        title: str = "Channel",
    ) -> dict[str, Any]:
        """A message in a group sent on behalf of a chat: a channel (``channel_id`` another
        chat's id), the group's anonymous admins (``channel_id == chat_id``) or, with
        ``automatic_forward``, the linked channel's post forwarded into its discussion group.
        ``from`` is Telegram's service users, as it sends them. Return the update."""
        chat = self.world.group(chat_id)
        if channel_id == chat_id:
            sender_chat = chat
            sender = {
                "id": 1087968824,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
        else:
            sender_chat = {"id": channel_id, "type": "channel", "title": title}
            sender = {
                "id": 136817688,
                "is_bot": True,
                "first_name": "Channel",
                "username": "Channel_Bot",
            }
        fields: dict[str, Any] = {"text": text, "sender_chat": sender_chat}
        if automatic_forward:
            sender = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
            fields["is_automatic_forward"] = True
            fields["forward_origin"] = {
                "type": "channel",
                "chat": sender_chat,
                "message_id": 1,
                "date": self.world.date(),
            }
        message = self.world.new_message(chat, sender, **fields)
        return self.world.updates.push("message", message)

    def set_chat_permissions(self, chat_id: int, **permissions: bool) -> None:
        """The owner changes the group's default member permissions (those not given stay
        true); a restriction lifted later falls back to these."""
        unknown = [key for key in permissions if key not in PERMISSIONS]
        if unknown:
            raise ValueError(f"sandbox: unknown permission {unknown[0]!r}")
        self.world.chat_permissions[chat_id] = dict(permissions)

    def set_bot_rights(self, chat_id: int, **rights: bool) -> dict[str, Any]:
        """The bot's admin rights in a group change (none given: demoted to a member); queues
        the ``my_chat_member`` update. Return the update."""
        old = self.world.member(chat_id, self.world.bot_id)
        self.world.bot_rights[chat_id] = {k: v for k, v in rights.items() if v} if rights else {}
        new = self.world.member(chat_id, self.world.bot_id)
        payload = {
            "chat": self.world.group(chat_id),
            "from": next(iter(self.world.users.values()), self.world.bot_user),
            "date": self.world.date(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return self.world.updates.push("my_chat_member", payload)

    def user_forwards(
        self, user_id: int, origin: dict[str, Any], text: str = "fwd", *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user forwards a message; ``origin`` is the ``forward_origin`` object exactly as
        Telegram sends it (it has been seen to send a ``hidden_user`` origin without the
        ``sender_user_name`` the Bot API documents as required). Return the update."""
        user = self.world.user(user_id)
        chat = self._chat_of(user_id, chat_id)
        message = self.world.new_message(chat, user, text=text, forward_origin=origin)
        return self.world.updates.push("message", message)

    def push_raw_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue ``{"update_id": N, kind: payload}`` exactly as given (nothing checked or
        filled in): updates of shapes the client may not expect. Return the update."""
        return self.world.updates.push(kind, payload)

    def user_sends_sticker(self, user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
        """The user sends a sticker; return the update."""
        user = self.world.user(user_id)
        chat = self._chat_of(user_id, chat_id)
        sticker = {
            "file_id": f"CAACAg{secrets.token_hex(8)}",
            "file_unique_id": secrets.token_hex(6),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        message = self.world.new_message(chat, user, sticker=sticker)
        return self.world.updates.push("message", message)

    def user_edits(
        self, user_id: int, chat_id: int, message_id: int, new_text: str
    ) -> dict[str, Any]:
        """The user edits their message; return the ``edited_message`` update."""
        message = self.world.message(chat_id, message_id)
        if message is None or message["from"]["id"] != user_id:
            raise ValueError(f"sandbox: user {user_id} has no message {message_id} in {chat_id}")
        if chat_id != user_id and not self.world.may_post(chat_id, user_id):
            raise PostingRefused(f"sandbox: user {user_id} may not edit in {chat_id} now")
        message.update(text=new_text, edit_date=self.world.date())
        message.pop("entities", None)
        if entities := command_entities(new_text):
            message["entities"] = entities
        return self.world.updates.push("edited_message", dict(message))

    def press_button(
        self, user_id: int, message_id: int, chat_id: int, data: str
    ) -> dict[str, Any]:
        """The user presses an inline button carrying ``data``; return the update."""
        message = self.world.message(chat_id, message_id)
        if message is None:
            raise ValueError(f"sandbox: no message {message_id} in chat {chat_id}")
        query_id = str(secrets.randbits(62))
        query = {
            "id": query_id,
            "from": self.world.user(user_id),
            "message": dict(message),
            "chat_instance": str(abs(chat_id) * 7919 % 10**12),
            "data": data,
        }
        self.world.callback_queries[query_id] = {"answered": False, **query}
        return self.world.updates.push("callback_query", query)

    # -- membership -------------------------------------------------------------------------

    def user_joins(
        self, chat_id: int, user_id: int, *, invite_link: str | None = None
    ) -> dict[str, Any]:
        """The user joins a group: ``chat_member`` (returned) plus the service message;
        :class:`JoinRefused` while they are banned from it."""
        old = self.world.status(chat_id, user_id)
        if old == "kicked":
            raise JoinRefused(f"sandbox: user {user_id} is banned from {chat_id}")
        update = member_update(
            self.world,
            chat_id,
            user_id,
            old if old in ("left", "kicked") else "left",
            "member",
            invite_link,
        )
        join_service_message(self.world, chat_id, user_id)
        return update

    def user_leaves(self, chat_id: int, user_id: int) -> dict[str, Any]:
        """The user leaves: ``chat_member`` member->left (returned) plus the service message."""
        old = self.world.status(chat_id, user_id)
        update = member_update(
            self.world, chat_id, user_id, old if old not in ("left", "kicked") else "member", "left"
        )
        user = self.world.user(user_id)
        message = self.world.new_message(self.world.group(chat_id), user, left_chat_member=user)
        self.world.updates.push("message", message)
        return update

    def join_request(
        self, chat_id: int, user_id: int, *, invite_link: str | None = None
    ) -> dict[str, Any]:
        """The user asks to join; the bot may DM them for five minutes, until the request is
        handled (unless they started the bot). Return the update."""
        payload: dict[str, Any] = {
            "chat": self.world.group(chat_id),
            "from": self.world.user(user_id),
            "user_chat_id": user_id,
            "date": self.world.date(),
        }
        link = self.world.link_object(invite_link)
        if link is not None:
            payload["invite_link"] = link
        self.world.join_requests[(chat_id, user_id)] = invite_link
        # the bot may write to the requester for five minutes, until the request is handled
        self.world.requester_window[user_id] = self.world.now() + REQUESTER_WINDOW
        return self.world.updates.push("chat_join_request", payload)

    def _my_chat_member(self, user_id: int, old: str, new: str) -> dict[str, Any]:
        bot = self.world.bot_user
        payload = {
            "chat": self.world.private_chat(user_id),
            "from": self.world.user(user_id),
            "date": self.world.date(),
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": {"status": new, "user": bot}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
        return self.world.updates.push("my_chat_member", payload)
