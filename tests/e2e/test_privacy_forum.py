"""Erasure with a forum team chat: the member's topic loses their name (``editForumTopic``),
the topic mapping and relays go, and an operator's message in the old topic reaches nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.desk import DeskRelay, DeskTopic
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, TOKEN
from tests.e2e.desk_support import copies_of, desk_config, write
from tests.e2e.helpers import run_clock, settle

BOB = 7201


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[TelegramSandbox]:
    sb = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sb.add_chat(COMMUNITY, "supergroup", "Demo community")
    sb.add_chat(TEAM_CHAT, "supergroup", "Team", is_forum=True)
    sb.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    sb.add_user(BOB, "Bob", username="bob_b", language_code="en")
    await sb.start()
    yield sb
    await sb.stop()


async def test_an_erased_members_topic_loses_their_name(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await write(app, sandbox, clock, BOB, "my parcel has not arrived, what now?")
    [thread] = list(sandbox.world.topics[TEAM_CHAT])
    assert "Bob" in sandbox.world.topics[TEAM_CHAT][thread]
    clock.advance(seconds=5)
    sandbox.user_sends(OPERATOR, f"/member {BOB} forget", chat_id=TEAM_CHAT)
    await run_clock(app, sandbox, clock, 5)
    title = sandbox.world.topics[TEAM_CHAT][thread]
    assert "Bob" not in title and str(BOB) not in title
    async with app.sessions() as session:
        assert (await session.execute(select(DeskTopic))).scalars().all() == []
        assert (await session.execute(select(DeskRelay))).scalars().all() == []
    sandbox.user_sends(OPERATOR, "Are you there?", chat_id=TEAM_CHAT, message_thread_id=thread)
    await settle(app, sandbox)
    assert copies_of(sandbox, TEAM_CHAT, BOB) == []
