"""The team chat's budget: 30 new conversations within seconds are more than its 20 messages a
minute. Each is relayed in a slot of the desk's share, a digest within a minute names those
waiting, a reply "#N …" to it answers member N at once, nothing is lost and Telegram never
answers 429."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.desk import DeskTicket
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TEAM_CHAT
from tests.e2e.desk_support import desk_config
from tests.e2e.helpers import settle

FIRST, MEMBERS = 7401, 30


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


async def test_thirty_new_conversations_in_seconds(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    asked = {}
    for uid in range(FIRST, FIRST + MEMBERS):
        sandbox.add_user(uid, f"M{uid}", language_code="en")
        asked[uid] = sandbox.user_sends(uid, f"my order {uid} is late, what now?")["message"]
        if uid % 3 == 0:
            clock.advance(seconds=1)
    await settle(app, sandbox)
    start = clock.now().timestamp()
    digest = None
    for _ in range(60):  # one virtual minute
        clock.advance(seconds=1)
        await settle(app, sandbox)
        digest = digest or next(
            (m for m in sandbox.sent_messages(TEAM_CHAT) if m.text.count("tg://user?id=") > 1),
            None,
        )
    assert digest is not None and digest.at - start <= 60
    listed = [int(n) for n in re.findall(r"#(\d+) <a", digest.text)]
    assert len(listed) >= MEMBERS // 3  # far more than the minute's budget could relay
    # answer one named there, whose copy has not arrived yet
    async with app.sessions() as session:
        owners = {
            row.id: row.user_id
            for row in await session.execute(select(DeskTicket.id, DeskTicket.user_id))
        }
    relayed_now = {m.copied_from[0] for m in sandbox.sent_messages(TEAM_CHAT) if m.copied_from}
    ticket_id = next(t for t in reversed(listed) if owners[t] not in relayed_now)
    last = owners[ticket_id]
    sandbox.user_sends(
        OPERATOR,
        f"#{ticket_id} We are on it",
        chat_id=TEAM_CHAT,
        reply_to_message_id=digest.message_id,
    )
    for _ in range(5):
        clock.advance(seconds=1)
        await settle(app, sandbox)
    assert [m.text for m in sandbox.sent_messages(last)] == ["We are on it"]
    for _ in range(120):  # the rest drains at the desk's share of the limit
        clock.advance(seconds=1)
        await settle(app, sandbox)
    relayed = {m.copied_from for m in sandbox.sent_messages(TEAM_CHAT) if m.copied_from}
    assert relayed == {(uid, asked[uid]["message_id"]) for uid in asked}  # nothing lost
    assert sandbox.count_errors(429) == 0
    per_minute: dict[int, int] = {}
    for m in sandbox.sent_messages(TEAM_CHAT):
        per_minute[int(m.at // 60)] = per_minute.get(int(m.at // 60), 0) + 1
    assert max(per_minute.values()) <= 20
