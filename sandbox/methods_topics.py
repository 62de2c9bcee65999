"""Forum topics: ``createForumTopic`` and ``message_thread_id``, with Telegram's rules.

A supergroup made a forum (``add_chat(..., is_forum=True)``) has topics; the bot creates one
only as an administrator with ``can_manage_topics`` (``set_bot_rights``), else
``400 Bad Request: not enough rights to create a topic``; in a chat that is not a forum,
``400 Bad Request: the chat is not a forum``. A topic's name is 1-128 characters
(``TOPIC_TITLE_EMPTY`` / ``TOPIC_TITLE_INVALID``... as Telegram names them). Creating a topic posts
its ``forum_topic_created`` service message, whose id is the topic's ``message_thread_id``;
it counts against the group's flood limit like a message.

``editForumTopic`` renames a topic (the bot made every topic of the sandbox, and Telegram lets a
topic's creator edit it without ``can_manage_topics``): an unknown thread is
``400 Bad Request: TOPIC_ID_INVALID``, a name over 128 characters ``TOPIC_TITLE_INVALID``, the
same name again ``TOPIC_NOT_MODIFIED``; an empty or missing name keeps the current one.

Sending with ``message_thread_id`` into a forum needs an existing topic
(``400 Bad Request: message thread not found``); a reply in a forum lands in the replied
message's topic. Messages in a topic carry ``message_thread_id`` and ``is_topic_message``.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .params import optional_int, require
from .world import World

ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


def create_forum_topic(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``createForumTopic``."""
    chat_id = require(params, "chat_id", "chat_id is empty")
    chat = world.chat(chat_id) if isinstance(chat_id, int) else None
    if chat is None:
        raise bad_request("chat not found")
    if chat["type"] != "supergroup" or not chat.get("is_forum"):
        raise bad_request("the chat is not a forum")
    if not world.bot_right(chat["id"], "can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    name = str(params.get("name") or "")
    if not name.strip():
        raise bad_request("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    color = optional_int(params, "icon_color") or ICON_COLORS[0]
    if color not in ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # not one of the six colours
    now = world.now()
    world.limiter.check(chat["id"], chat["type"], now)
    created = {"name": name, "icon_color": color}
    message = world.new_message(chat, world.bot_user, forum_topic_created=created)
    thread_id = message["message_id"]
    message.update(message_thread_id=thread_id, is_topic_message=True)
    world.topics.setdefault(chat["id"], {})[thread_id] = name
    world.limiter.take(chat["id"], chat["type"], now)
    return {"message_thread_id": thread_id, **created}


def edit_forum_topic(world: World, params: dict[str, Any]) -> bool:
    """``editForumTopic``."""
    chat_id = require(params, "chat_id", "chat_id is empty")
    chat = world.chat(chat_id) if isinstance(chat_id, int) else None
    if chat is None:
        raise bad_request("chat not found")
    if chat["type"] != "supergroup" or not chat.get("is_forum"):
        raise bad_request("the chat is not a forum")
    thread_id = optional_int(params, "message_thread_id")
    topics = world.topics.get(chat["id"], {})
    if thread_id is None or thread_id not in topics:
        raise bad_request("TOPIC_ID_INVALID")
    name = str(params.get("name") or "")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    if not name or name == topics[thread_id]:
        if "icon_custom_emoji_id" not in params:
            raise bad_request("TOPIC_NOT_MODIFIED")
        return True
    topics[thread_id] = name
    return True


def thread_for(
    world: World, chat: dict[str, Any], thread_id: int | None, reply: dict[str, Any] | None
) -> int | None:
    """The topic a message sent to ``chat`` goes to (``None``: not in a topic)."""
    if not chat.get("is_forum"):
        return None  # Telegram ignores message_thread_id outside forums
    if thread_id is None and reply is not None:
        thread_id = reply.get("message_thread_id")
    if thread_id is None:
        return None
    if thread_id not in world.topics.get(chat["id"], {}):
        raise bad_request("message thread not found")
    return int(thread_id)


HANDLERS = {"createForumTopic": create_forum_topic, "editForumTopic": edit_forum_topic}
