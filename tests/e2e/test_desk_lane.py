"""The send lane: a member's relay and the operator's answer go ahead of a broadcast-sized
backlog in the outbox (lane 1), instead of behind it. The limits run on the virtual clock (29
messages a second in all), so what went before the relay is counted in seconds of it."""

from __future__ import annotations

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.outbox import ChatKind
from bot.db.repositories import OutboxRepository
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TEAM_CHAT
from tests.e2e.desk_support import desk_config
from tests.e2e.helpers import settle

BACKLOG = 1000
FIRST = 800_000
ANN = 7301


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


def bulk(sandbox: TelegramSandbox) -> list[SentMessage]:
    return [m for m in sandbox.sent_messages() if m.chat_id >= FIRST]


async def _until(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, found: object) -> None:
    """Moves the virtual clock a second at a time, each once the bot has done what the clock
    lets it (``settle``: what is held waits for a limit), until ``found()`` is true (at most
    40 s)."""
    assert callable(found)
    for _ in range(40):
        await settle(app, sandbox)
        if found():
            return
        clock.advance(seconds=1)
    assert found()


async def test_desk_messages_overtake_a_backlog_of_1000(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid in range(FIRST, FIRST + BACKLOG):
        sandbox.add_user(uid, f"M{uid}")
        sandbox.world.dm_allowed.add(uid)
    sandbox.add_user(ANN, "Ann", language_code="en")
    async with app.db.transaction() as session:
        outbox = OutboxRepository(session)
        for uid in range(FIRST, FIRST + BACKLOG):  # what a broadcast or win-back queues
            await outbox.enqueue(
                key=f"bulk:{uid}",
                chat_id=uid,
                chat_kind=ChatKind.PRIVATE,
                purpose="broadcast",
                payload={"text": "news"},
                now=clock.now(),
            )
    app.delivery.wake()
    await sandbox.wait_for(lambda: len(bulk(sandbox)) >= 25)  # the first second's worth
    question = sandbox.user_sends(ANN, "my parcel has not arrived, what now?")["message"]
    await settle(app, sandbox)  # handled while the virtual clock stands still
    sent_before = len(bulk(sandbox))

    def relayed() -> SentMessage | None:
        return next(
            (
                m
                for m in sandbox.sent_messages(TEAM_CHAT)
                if m.copied_from == (ANN, question["message_id"])
            ),
            None,
        )

    await _until(app, sandbox, clock, lambda: relayed() is not None)
    relay = relayed()
    assert relay is not None
    # ahead of the backlog (34 s of it at 29 a second), not behind it: within a virtual second
    # or two
    assert len(bulk(sandbox)) - sent_before <= 2 * 29

    answer = sandbox.user_sends(
        OPERATOR, "It left today", chat_id=TEAM_CHAT, reply_to_message_id=relay.message_id
    )["message"]

    def answered() -> bool:
        return any(
            m.copied_from == (TEAM_CHAT, answer["message_id"]) for m in sandbox.sent_messages(ANN)
        )

    await _until(app, sandbox, clock, answered)
    assert len(bulk(sandbox)) < BACKLOG // 2  # the answer, too, went before the backlog's end
