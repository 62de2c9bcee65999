"""Turns one outbox row into one Bot API call and classifies what Telegram answered."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    ApproveChatJoinRequest,
    BanChatMember,
    CopyMessage,
    CreateForumTopic,
    DeclineChatJoinRequest,
    DeleteMessage,
    DeleteMessages,
    EditForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    PinChatMessage,
    RestrictChatMember,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
    UnbanChatMember,
)
from aiogram.types import ForumTopic, Message, MessageId

from bot.db.models.outbox import ChatKind
from bot.delivery.files import StoredFiles
from bot.redact import Redactor

log = logging.getLogger(__name__)

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "editMessageText": EditMessageText,
    "editMessageReplyMarkup": EditMessageReplyMarkup,
    "approveChatJoinRequest": ApproveChatJoinRequest,
    "declineChatJoinRequest": DeclineChatJoinRequest,
    "copyMessage": CopyMessage,
    "createForumTopic": CreateForumTopic,
    "sendDocument": SendDocument,
    "sendPhoto": SendPhoto,
    # community order (issue 13)
    "deleteMessage": DeleteMessage,
    "deleteMessages": DeleteMessages,
    "restrictChatMember": RestrictChatMember,
    "banChatMember": BanChatMember,
    "unbanChatMember": UnbanChatMember,
    "pinChatMessage": PinChatMessage,
    # privacy (issue 15): an erased member's forum topic renamed
    "editForumTopic": EditForumTopic,
}

#: seconds an upload may take (a 50 MB document over a slow line)
FILE_TIMEOUT = 300.0

#: a 400 that means the private chat cannot be reached at all
UNREACHABLE_400 = ("chat not found", "user not found", "user is deactivated", "peer_id_invalid")


@dataclass(frozen=True)
class Sent:
    message_id: int | None


@dataclass(frozen=True)
class SentUnknown:
    """The call was made and answered, but the answer cannot be read (not the method's
    result): Telegram may well have performed it, so it is settled, never made again."""

    reason: str


@dataclass(frozen=True)
class RetryLater:
    """Try the same row again after ``seconds``; ``flood`` when Telegram said 429."""

    seconds: float
    reason: str
    flood: bool = False


@dataclass(frozen=True)
class Unreachable:
    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str


Outcome = Sent | SentUnknown | RetryLater | Unreachable | Failed


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        *,
        request_timeout: float = 30.0,
        files: StoredFiles | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._bot = bot
        self._timeout = request_timeout
        self._files = files
        self._redactor = redactor or Redactor()

    def redact(self, text: str) -> str:
        """``text`` without the secrets this sender knows (for reasons made elsewhere)."""
        return self._redactor.redact(text)

    async def send(
        self, chat_id: int, chat_kind: str, method: str, payload: dict[str, Any]
    ) -> Outcome:
        """The call's outcome; its reason (stored in ``outbox.last_error``, logged, perhaps
        told to the team) never holds a secret: aiohttp's errors name the URL with the token."""
        outcome = await self._send(chat_id, chat_kind, method, payload)
        if isinstance(outcome, Sent):
            return outcome
        return dataclasses.replace(outcome, reason=self._redactor.redact(outcome.reason))

    async def _send(
        self, chat_id: int, chat_kind: str, method: str, payload: dict[str, Any]
    ) -> Outcome:
        factory = METHODS.get(method)
        if factory is None:
            return Failed(f"unsupported method {method}")
        params: dict[str, Any] = {k: v for k, v in payload.items() if not k.startswith("_")}
        file = payload.get("_file")
        if isinstance(file, dict):  # the bytes are in the database (bot/delivery/files.py)
            stored = await self._files.open(str(file["ref"])) if self._files else None
            if stored is None:
                return Failed("the file to send is no longer stored")
            params[str(file["kind"])] = stored
            timeout = max(self._timeout, FILE_TIMEOUT)  # up to 50 MB go up in one request
        else:
            timeout = self._timeout
        try:
            call = factory.model_validate({"chat_id": chat_id, **params})
        except ValueError as error:
            return Failed(f"invalid payload: {self._redactor.redact(str(error))[:200]}")
        try:
            result = await self._bot(call, request_timeout=int(timeout))
        except ClientDecodeError as error:  # made, answered, unreadable: at most once
            return SentUnknown(f"answer unreadable: {error.message}")
        except TelegramEntityTooLarge as error:  # a network error to aiogram; final to us
            return Failed(f"413 {error.message}")
        except TelegramRetryAfter as error:
            return RetryLater(
                float(error.retry_after), f"429 retry after {error.retry_after}", flood=True
            )
        except TelegramForbiddenError as error:
            return (
                Unreachable(f"403 {error.message}")
                if chat_kind == ChatKind.PRIVATE
                else Failed(f"403 {error.message}")
            )
        except TelegramMigrateToChat as error:
            return Failed(f"group migrated to {error.migrate_to_chat_id}")
        except TelegramBadRequest as error:
            text = error.message.lower()
            if chat_kind == ChatKind.PRIVATE and any(marker in text for marker in UNREACHABLE_400):
                return Unreachable(f"400 {error.message}")
            return Failed(f"400 {error.message}")
        except (TimeoutError, TelegramNetworkError, TelegramServerError) as error:
            text = self._redactor.redact(str(error))  # before it is cut: no half a secret
            return RetryLater(5.0, f"transient: {type(error).__name__}: {text[:150]}")
        except TelegramAPIError as error:
            return Failed(f"{type(error).__name__}: {error.message}")
        if isinstance(result, ForumTopic):  # the topic's id stands where a message's would
            return Sent(result.message_thread_id)
        return Sent(result.message_id if isinstance(result, Message | MessageId) else None)
