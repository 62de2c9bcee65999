"""Bot API methods that send, edit and delete messages (and answer buttons).

Each handler takes the :class:`~sandbox.world.World` and the normalized parameters, returns
the ``result`` or raises :class:`~sandbox.errors.ApiError`. Checks run in Telegram's order:
chat (400/403), content (400), then the flood limits (429); a refused request changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .errors import bad_request
from .html import HtmlError, Parsed, parse_html
from .methods_topics import thread_for
from .params import optional_int, require
from .records import SentMessage
from .world import World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
#: answerCallbackQuery: the notification shows 0-200 characters
MAX_CALLBACK_TEXT = 200
#: an inline keyboard button needs exactly one of these besides its text
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_PARSE_MODES = ("html", "markdown", "markdownv2")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def render(text: str, parse_mode: Any, entities: Any) -> Parsed:
    """What the recipient sees. Only HTML is checked; Markdown modes pass through as-is."""
    if parse_mode in (None, ""):
        return Parsed(text, list(entities) if isinstance(entities, list) else [])
    if str(parse_mode).lower() not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if str(parse_mode).lower() != "html":
        return Parsed(text, [])
    try:
        return parse_html(text)
    except HtmlError as err:
        raise bad_request(f"can't parse entities: {err}") from None


def check_markup(
    markup: Any, chat_type: str = "private", *, http_web_apps: bool = False
) -> dict[str, Any] | None:
    """Validate a ``reply_markup`` for a chat of ``chat_type``; return it (``None`` when
    absent). A ``web_app`` button is for private chats only (elsewhere Telegram answers
    ``BUTTON_TYPE_INVALID``) and opens only an https URL (``http_web_apps``: also http, as in
    Telegram's test environment)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" of '
            "the InlineKeyboardMarkup must be an Array of Arrays"
        )
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
        actions = [key for key in BUTTON_ACTIONS if button.get(key) not in (None, False)]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard"
            )
        if len(actions) > 1:
            raise bad_request("BUTTON_TYPE_INVALID")
        data = button.get("callback_data")
        if data is not None and not 0 < len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
        if button.get("web_app") is not None:
            _check_web_app(button["web_app"], chat_type, http_web_apps)
    return markup


def _check_web_app(web_app: Any, chat_type: str, http_allowed: bool) -> None:
    if chat_type != "private":
        raise bad_request("BUTTON_TYPE_INVALID")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url:
        raise bad_request(
            "can't parse inline keyboard button: Can't find field \"url\" in the WebAppInfo"
        )
    if not url.startswith("https://") and not (http_allowed and url.startswith("http://")):
        raise bad_request(
            f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed"
        )


def _inline(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Telegram echoes only inline keyboards back in the ``Message``."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _reply_to(params: dict[str, Any]) -> tuple[int | None, bool]:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and reply.get("message_id") is not None:
        return int(reply["message_id"]), bool(reply.get("allow_sending_without_reply"))
    return optional_int(params, "reply_to_message_id"), bool(
        params.get("allow_sending_without_reply")
    )


def _deliver(
    world: World, params: dict[str, Any], method: str, raw_text: str, content: dict[str, Any]
) -> dict[str, Any]:
    """Shared tail of the sending methods: reply, flood limits, store, record."""
    chat = world.chat_for_bot_message(params.get("chat_id"))
    markup = check_markup(
        params.get("reply_markup"), chat["type"], http_web_apps=world.test_environment
    )
    reply_id, allow_missing = _reply_to(params)
    reply = world.reply_target(chat["id"], reply_id, allow_missing)
    thread = thread_for(world, chat, optional_int(params, "message_thread_id"), reply)
    now = world.now()
    world.limiter.check(chat["id"], chat["type"], now)
    message = world.new_message(
        chat,
        world.bot_user,
        reply_to_message=reply,
        message_thread_id=thread,
        is_topic_message=True if thread is not None else None,
        reply_markup=_inline(markup),
        **content,
    )
    world.limiter.take(chat["id"], chat["type"], now)
    sent = SentMessage(
        chat_id=chat["id"],
        message_id=message["message_id"],
        text=raw_text,
        parse_mode=params.get("parse_mode") or None,
        reply_markup=markup,
        reply_to_message_id=reply_id,
        at=now,
        method=method,
        thread_id=thread,
    )
    world.sent.append(sent)
    world.bot_messages[(chat["id"], message["message_id"])] = sent
    return message


def send_message(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``sendMessage``."""
    world.chat_for_bot_message(params.get("chat_id"))
    text = str(params.get("text") or "")
    parsed = render(text, params.get("parse_mode"), params.get("entities"))
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > MAX_TEXT:
        raise bad_request("message is too long")
    return _deliver(
        world,
        params,
        "sendMessage",
        text,
        {"text": parsed.text, "entities": parsed.entities or None},
    )


def _caption(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    caption = str(params.get("caption") or "")
    parsed = render(caption, params.get("parse_mode"), params.get("caption_entities"))
    if len(parsed.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption, {"caption": parsed.text or None, "caption_entities": parsed.entities or None}


def _own_message(
    world: World, params: dict[str, Any], missing: str
) -> tuple[dict[str, Any], dict[str, Any], SentMessage]:
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = world.chat_for_bot_message(params.get("chat_id"))
    message_id = require(params, "message_id", "message identifier is not specified")
    message = world.message(chat["id"], message_id)
    if message is None:
        raise bad_request(missing)
    sent = world.bot_messages.get((chat["id"], message_id))
    if sent is None:
        raise bad_request("message can't be edited")
    return chat, message, sent


def edit_message_text(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``editMessageText``: counted against the chat's flood window, not the global one."""
    chat, message, sent = _own_message(world, params, "message to edit not found")
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    text = str(params.get("text") or "")
    parsed = render(text, params.get("parse_mode"), params.get("entities"))
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = check_markup(
        params.get("reply_markup"), chat["type"], http_web_apps=world.test_environment
    )
    if (
        parsed.text == message["text"]
        and (parsed.entities or None) == message.get("entities")
        and _inline(markup) == message.get("reply_markup")
    ):
        raise bad_request(NOT_MODIFIED)
    now = world.now()
    world.limiter.check(chat["id"], chat["type"], now, is_global=False)
    message.update(text=parsed.text, edit_date=int(now))
    _set(message, "entities", parsed.entities or None)
    _set(message, "reply_markup", _inline(markup))
    world.limiter.take(chat["id"], chat["type"], now, is_global=False)
    world.bot_messages[(chat["id"], message["message_id"])] = replace(
        sent, text=text, parse_mode=params.get("parse_mode") or None, reply_markup=markup
    )
    return dict(message)


def edit_message_reply_markup(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``editMessageReplyMarkup`` (absent markup removes the keyboard)."""
    chat, message, sent = _own_message(world, params, "message to edit not found")
    markup = check_markup(
        params.get("reply_markup"), chat["type"], http_web_apps=world.test_environment
    )
    if _inline(markup) == message.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    message["edit_date"] = world.date()
    _set(message, "reply_markup", _inline(markup))
    world.bot_messages[(chat["id"], message["message_id"])] = replace(sent, reply_markup=markup)
    return dict(message)


def _set(message: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


def answer_callback_query(world: World, params: dict[str, Any]) -> bool:
    """``answerCallbackQuery``: each query can be answered once."""
    query = world.callback_queries.get(str(params.get("callback_query_id")))
    if query is None or query["answered"]:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text is not None and len(str(text)) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answered"] = True
    query["answer"] = {key: params.get(key) for key in ("text", "show_alert", "url")}
    return True


def send_chat_action(world: World, params: dict[str, Any]) -> bool:
    """``sendChatAction`` (not flood-counted)."""
    world.chat_for_bot_message(params.get("chat_id"))
    if params.get("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


HANDLERS = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
