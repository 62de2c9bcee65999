"""Rules: ``/rules post`` posts and pins them and the greeting links to the pinned post;
``/rules`` answers by DM, in the group at most once an hour per member."""

from __future__ import annotations

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR
from tests.e2e.helpers import settle

MEMBER, STARTED, NEWCOMER = 3301, 3302, 3303


@pytest.fixture
def config() -> CommunityConfig:
    yaml = CONFIG_YAML + "moderation:\n  banned_words: [刷单]\n  newcomer_links: 1d\n"
    return parse_config(yaml, "tests/e2e/test_moderation_rules.py")


def _rules(sandbox: TelegramSandbox, chat: int) -> list[str]:
    return [m.text for m in sandbox.sent_messages(chat) if "群规" in m.text and "📌" in m.text]


async def test_rules_post_pins_them_and_the_greeting_links_to_them(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(NEWCOMER, "Nina", language_code="zh")
    sandbox.user_joins(COMMUNITY, NEWCOMER)
    await settle(app, sandbox)
    clock.advance(minutes=3)
    await settle(app, sandbox)
    [before] = [m.text for m in sandbox.sent_messages(COMMUNITY) if "Nina" in m.text]
    assert "群规" not in before  # no rules posted yet: the greeting promises none

    sandbox.world.set_status(COMMUNITY, OPERATOR, "member")
    sandbox.user_sends(OPERATOR, "/rules post", chat_id=COMMUNITY)
    await settle(app, sandbox)
    [posted] = [m for m in sandbox.sent_messages(COMMUNITY) if "📌" in m.text]
    assert "警告满 3 次禁言" in posted.text and "新成员" in posted.text
    assert sandbox.world.pinned[COMMUNITY] == [posted.message_id]

    sandbox.add_user(NEWCOMER + 1, "Nora", language_code="zh")
    sandbox.user_joins(COMMUNITY, NEWCOMER + 1)
    await settle(app, sandbox)
    clock.advance(minutes=3)
    await settle(app, sandbox)
    [greeting] = [m.text for m in sandbox.sent_messages(COMMUNITY) if "Nora" in m.text]
    assert f"https://t.me/c/2001/{posted.message_id}" in greeting


async def test_rules_by_dm_or_once_an_hour_in_the_group(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(MEMBER, "Mia", language_code="zh")
    sandbox.add_user(STARTED, "Sam", language_code="zh")
    sandbox.user_sends(STARTED, "/start")
    await settle(app, sandbox)
    for _ in range(3):
        sandbox.user_sends(MEMBER, "/rules", chat_id=COMMUNITY)
        sandbox.user_sends(STARTED, "/rules", chat_id=COMMUNITY)
    await settle(app, sandbox)
    for _ in range(4):  # one DM a second to a private chat
        clock.advance(seconds=2)
        await settle(app, sandbox)
    assert len(_rules(sandbox, COMMUNITY)) == 1  # Mia, in the group, once
    assert len(_rules(sandbox, STARTED)) == 3  # Sam, by DM (costs the group nothing)
    clock.advance(minutes=61)
    sandbox.user_sends(MEMBER, "/rules", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert len(_rules(sandbox, COMMUNITY)) == 2
    sandbox.user_sends(MEMBER, "/rules")  # in private: always
    await settle(app, sandbox)
    assert len(_rules(sandbox, MEMBER)) == 1
