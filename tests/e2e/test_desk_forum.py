"""The service desk with a forum team chat: one topic per member (createForumTopic once, then
reused), any message in the topic answers except notes starting with "!", and a forum where the
bot may not manage topics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.desk import DeskTopic
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, TOKEN, settings_for
from tests.e2e.desk_support import copies_of, desk_config, relay_of, team_texts, write
from tests.e2e.helpers import settle

BOB = 7101


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


# -- a forum team chat ---------------------------------------------------------------------------


@pytest.fixture
async def forum(clock: ManualClock) -> AsyncIterator[TelegramSandbox]:
    sb = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sb.add_chat(COMMUNITY, "supergroup", "Demo community")
    sb.add_chat(TEAM_CHAT, "supergroup", "Team", is_forum=True)
    sb.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    sb.add_user(BOB, "Bob", username="bob_b", language_code="en")
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
def sandbox(forum: TelegramSandbox) -> TelegramSandbox:
    """The tests below run against the forum team chat."""
    return forum


async def test_a_forum_team_chat_gets_one_topic_per_member(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await write(app, sandbox, clock, BOB, "my parcel has not arrived, what now?")
    await write(app, sandbox, clock, BOB, "hello?")
    topics = [c for c in sandbox.calls if c.method == "createForumTopic" and c.ok]
    assert len(topics) == 1
    thread = next(iter(sandbox.world.topics[TEAM_CHAT]))
    assert "Bob" in sandbox.world.topics[TEAM_CHAT][thread]
    relays = [m for m in sandbox.sent_messages(TEAM_CHAT)]
    assert relays and all(m.thread_id == thread for m in relays)
    # any message in the topic answers Bob, except a note starting with "!"
    clock.advance(seconds=5)
    sandbox.user_sends(
        OPERATOR, "!checking with the warehouse", chat_id=TEAM_CHAT, message_thread_id=thread
    )
    sandbox.user_sends(OPERATOR, "It ships tomorrow.", chat_id=TEAM_CHAT, message_thread_id=thread)
    await settle(app, sandbox)
    answers = copies_of(sandbox, TEAM_CHAT, BOB)
    assert [sandbox.world.message(BOB, a.message_id)["text"] for a in answers] == [  # type: ignore[index]
        "It ships tomorrow."
    ]
    # a message in the general chat answers nobody
    sandbox.user_sends(OPERATOR, "general chatter", chat_id=TEAM_CHAT)
    await settle(app, sandbox)
    assert len(copies_of(sandbox, TEAM_CHAT, BOB)) == 1
    async with app.sessions() as session:
        [topic] = (await session.execute(select(DeskTopic))).scalars().all()
    assert topic.thread_id == thread and topic.state == "ready"


async def test_a_forum_without_the_right_to_manage_topics(
    forum: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    # every right but can_manage_topics
    forum.set_bot_rights(
        TEAM_CHAT, can_manage_chat=True, can_delete_messages=True, can_pin_messages=True
    )
    app = SopBot(settings_for(forum.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        message = await write(app, forum, clock, BOB, "my parcel has not arrived, what now?")
        assert relay_of(forum, BOB, message["message_id"])  # to the general chat
        assert any("管理话题" in t for t in team_texts(forum))  # "Manage topics", in zh
        assert not [c for c in forum.calls if c.method == "createForumTopic"]
    finally:
        await app.stop()
