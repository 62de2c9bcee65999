"""What counts as plain chatter (``handlers/chatter.py:chatter_of``): only a member's message
that every router would merely count; anything that may do more takes the single path."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update

from bot.config import CommunityConfig, parse_config
from bot.runtime import engine_for
from bot.services.members.chatter import Chatter
from handlers.chatter import chatter_of
from handlers.filters import OperatorDirectory
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TEAM_CHAT

BOT_ID = 424242
MEMBER = 5_001
EXTRA = """
hooks:
  - id: guide
    keywords: ["666"]
    template: guide
tags:
  interests:
    fitness: ["健身"]
"""


def config(extra: str = "") -> CommunityConfig:
    return parse_config(CONFIG_YAML + EXTRA + extra, "tests/unit/test_chatter.py")


def update(
    text: str | None = "大家好", *, sender: dict[str, Any] | None = None, **message: Any
) -> Update:
    body: dict[str, Any] = {
        "message_id": 7,
        "date": 1_763_600_000,
        "chat": {"id": COMMUNITY, "type": "supergroup", "title": "Demo"},
        "from": sender or {"id": MEMBER, "is_bot": False, "first_name": "Mei"},
    }
    if text is not None:
        body["text"] = text
    body.update(message)
    return Update.model_validate({"update_id": 1, "message": body})


def plain(
    u: Update, cfg: CommunityConfig | None = None, ops: OperatorDirectory | None = None
) -> Chatter | None:
    cfg = cfg or config()
    return chatter_of(u, cfg, engine_for(cfg), ops or OperatorDirectory(), BOT_ID)


def test_a_members_chatter_is_plain() -> None:
    found = plain(update())
    assert found is not None
    assert (found.update_id, found.chat_id, found.person.id) == (1, COMMUNITY, MEMBER)
    assert plain(update(None, sticker=_sticker())) is not None  # content, no text


def _sticker() -> dict[str, Any]:
    return {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }


@pytest.mark.parametrize(
    "u",
    [
        update("/mycoupons"),
        update("666"),  # a hook keyword
        update("我在健身"),  # an interest word: a tag
        update("请问优惠券怎么用？"),  # a question (first response is on)
        update(None, new_chat_members=[{"id": 9, "is_bot": False, "first_name": "N"}]),
        update(sender={"id": 77, "is_bot": True, "first_name": "Bot"}),
        update(sender_chat={"id": COMMUNITY, "type": "supergroup", "title": "Demo"}),
        update(chat={"id": -100999, "type": "supergroup", "title": "Elsewhere"}),
        update(chat={"id": MEMBER, "type": "private", "first_name": "Mei"}),
        update(sender={"id": OPERATOR, "is_bot": False, "first_name": "Olga"}),
    ],
    ids=[
        "command",
        "hook",
        "interest",
        "question",
        "service",
        "bot",
        "anonymous admin",
        "other group",
        "private",
        "operator",
    ],
)
def test_what_may_do_more_takes_the_single_path(u: Update) -> None:
    assert plain(u) is None


def test_a_watched_community_takes_the_single_path() -> None:
    watched = config("alerts:\n  keywords: [退款]\n")
    assert watched.watches_messages
    assert plain(update(), watched) is None


def test_someone_once_seen_in_the_team_chat_takes_the_single_path() -> None:
    """Even once the entry has expired: the single path asks Telegram again."""
    ops = OperatorDirectory(ttl=0.0)
    ops.remember(TEAM_CHAT, MEMBER)
    assert not ops.is_known_operator(config(), MEMBER)  # expired
    assert plain(update(), ops=ops) is None
    ops.remember(TEAM_CHAT, MEMBER, present=False)  # seen leaving it
    assert plain(update(), ops=ops) is not None
