"""What both ways of taking updates in share: reading one update on its own (one that cannot be
parsed is skipped, never the batch), the chat it belongs to, and what could not be taken in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from pydantic import ValidationError

log = logging.getLogger(__name__)

#: the fast path (``handlers/chatter.py``, wired by ``bot.app``): given a batch of parsed
#: updates (polled, or posted to the webhook together), handles those it can in one
#: transaction and returns their ids; raises what the infrastructure failed
FastPath = Callable[[Sequence[Update]], Awaitable[frozenset[int]]]


@dataclass
class UpdateFaults:
    """What the receiving side could not take in, since the start."""

    #: updates skipped because they could not be parsed (each counted once)
    unparsable: int = 0
    #: updates that failed for the infrastructure and were left to come again (each attempt)
    infrastructure: int = 0


def parse_update(raw: Any, bot: Bot) -> Update | None:
    """The update, or ``None`` (logged) when it cannot be parsed."""
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])} {e['type']}"
            for e in error.errors(include_url=False, include_context=False, include_input=False)[:3]
        )
        log.error(
            "update %s (%s) could not be parsed; skipped: %s",
            update_id_of(raw),
            kind_of(raw),
            where,
        )
        return None


def update_id_of(raw: Any) -> int | None:
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None


def kind_of(raw: Any) -> str:
    """The update's type (its key such as ``message``), only if it is one of the Bot API's."""
    if not isinstance(raw, dict):
        return "not an object"
    kinds = [key for key in raw if key != "update_id" and key in Update.model_fields]
    return ",".join(kinds) or "unknown type"


def chat_of(update: Update) -> int:
    """The chat an update belongs to (its own id when it has none: no ordering needed)."""
    event = (
        update.message
        or update.edited_message
        or update.chat_member
        or update.my_chat_member
        or update.chat_join_request
    )
    if event is not None:
        return event.chat.id
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id
    return -update.update_id - 10**15
