"""Delivery hardening end to end: a send whose answer cannot be read is settled once, a send
that raises is given up like any fault, button answers never undo a press, and broadcast
buttons count only on their own card."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ChatKind, OutboxMessage
from bot.db.models.broadcast import Broadcast
from bot.db.models.sop import QaRsvp
from bot.db.repositories import OutboxRepository
from bot.delivery.sender import TelegramSender
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TOKEN
from tests.e2e.helpers import button, copies, draft, run_clock, seed, settle

CODE = re.compile(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
OTHER_OPERATOR = 1002
FIRST = 71_001


@pytest.fixture
def config() -> CommunityConfig:
    """Two operators, broadcasts as in test_broadcast, the evening Q&A with its RSVP button."""
    yaml = CONFIG_YAML.replace(
        f"operators: [{OPERATOR}]", f"operators: [{OPERATOR}, {OTHER_OPERATOR}]"
    )
    assert yaml != CONFIG_YAML
    return parse_config(
        yaml
        + """
sop:
  quiet_hours: "off"
broadcasts:
  backlog: 10
schedules:
  - id: evening_qa
    cron: "0 12 * * *"
    template: evening_qa
    starts_at: "20:00"
""",
        "tests/e2e/test_delivery_hardening.py",
    )


async def _rows(app: SopBot, chat_id: int) -> list[OutboxMessage]:
    async with app.sessions() as session:
        return list(
            (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.chat_id == chat_id)
                    .order_by(OutboxMessage.id)
                )
            ).scalars()
        )


# -- item 6: sends with an unknown result, sends that raise ------------------------------------


async def test_a_gift_dm_whose_answer_is_unreadable_is_delivered_once(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(11_001, "Una", language_code="en")
    sandbox.garble_next("sendMessage")  # delivered, but the answer is not a Message
    sandbox.user_sends(11_001, "/start src_ads")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(11_001)) == 1)
    await settle(app, sandbox)
    for _ in range(8):  # 8 minutes: more than five leases of 90 s
        clock.advance(seconds=60)
        await settle(app, sandbox)
    [gift] = sandbox.sent_messages(11_001)
    assert CODE.search(gift.text), gift.text
    assert [c.method for c in sandbox.calls if c.params.get("chat_id") == 11_001] == ["sendMessage"]
    [row] = await _rows(app, 11_001)
    assert (row.status, row.message_id, row.attempts) == ("sent_unknown", None, 1)
    assert row.sent_at is not None and "unreadable" in (row.last_error or "")


async def test_a_send_that_raises_is_given_up_after_the_max_attempts(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, tries = 11_101, []
    real = TelegramSender.send

    async def raising(
        self: TelegramSender, chat_id: int, chat_kind: str, method: str, payload: dict[str, Any]
    ) -> Any:
        if chat_id == broken:
            tries.append(clock.now())
            raise RuntimeError(f"a bug in the sender at /bot{TOKEN}/sendMessage")
        return await real(self, chat_id, chat_kind, method, payload)

    monkeypatch.setattr(TelegramSender, "send", raising)
    sandbox.add_user(broken, "Bug")
    async with app.db.transaction() as session:
        await OutboxRepository(session).enqueue(
            key="bug:1",
            chat_id=broken,
            chat_kind=ChatKind.PRIVATE,
            purpose="test",
            payload={"text": "never"},
            now=clock.now(),
        )
    app.delivery.wake()
    for _ in range(60):  # 5 hours, 5 minutes a step
        await settle(app, sandbox)
        [row] = await _rows(app, broken)
        if row.status != "sending":
            break
        clock.advance(minutes=5)
    assert row.status == "failed", (row.status, row.attempts, len(tries))
    assert len(tries) == row.attempts == 20
    error = row.last_error or ""
    assert error.startswith("gave up after 20 attempts: unexpected RuntimeError")
    assert TOKEN not in error and TOKEN.split(":")[1] not in error
    clock.advance(hours=1)
    await settle(app, sandbox)
    assert len(tries) == 20  # and never again


# -- item 7: a failed button answer does not undo the press ------------------------------------


def _press(sandbox: TelegramSandbox, who: int, message: SentMessage, data: str) -> str:
    """``who`` presses a button carrying ``data`` on ``message``; returns the query id."""
    update = sandbox.press_button(who, message.message_id, message.chat_id, data)
    return str(update["callback_query"]["id"])


async def _broadcast_status(app: SopBot) -> str:
    async with app.sessions() as session:
        return str((await session.execute(select(Broadcast.status))).scalar_one())


async def test_send_still_runs_when_its_button_answer_fails(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 5))
    preview = await draft(app, sandbox, "/broadcast all")
    sandbox.fail_next("answerCallbackQuery", 400, TOO_OLD)  # a backlog: the press is too old
    _press(sandbox, OPERATOR, preview, button(preview, "bc:send:"))
    await run_clock(app, sandbox, clock, 10)
    assert [c.description for c in sandbox.calls if c.method == "answerCallbackQuery"] == [TOO_OLD]
    assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
    assert await _broadcast_status(app) == "done"


async def test_a_seat_stays_reserved_when_the_rsvp_answer_fails(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(11_201, "Quinn", language_code="en")
    sandbox.user_sends(11_201, "/start")
    sandbox.user_sends(OPERATOR, "/qa topic hardening")
    await settle(app, sandbox)
    for _ in range(7):  # 09:00 → 12:30: the announcement with its button
        clock.advance(minutes=30)
        await settle(app, sandbox)
    announcement = next(m for m in sandbox.sent_messages(COMMUNITY) if m.reply_markup)
    data = announcement.button()["callback_data"]
    sandbox.fail_next("answerCallbackQuery", 502, "Bad Gateway")  # the network this time
    _press(sandbox, 11_201, announcement, data)
    await settle(app, sandbox)
    async with app.sessions() as session:
        seats = (await session.execute(select(QaRsvp.user_id))).scalars().all()
    assert seats == [11_201]
    again = _press(sandbox, 11_201, announcement, data)  # the seat is known: "already"
    await settle(app, sandbox)
    answer = sandbox.world.callback_queries[again]
    assert answer["answered"] and "already" in str(answer["answer"]["text"]).lower()


# -- item 9: a broadcast's buttons count only on its own card ----------------------------------


async def test_a_press_off_the_card_does_not_start_the_broadcast(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 5))
    preview = await draft(app, sandbox, "/broadcast all")
    data = button(preview, "bc:send:")
    # operator 1002's chat with the bot, up to a message with the card's very message id
    sandbox.add_user(OTHER_OPERATOR, "Oleg", language_code="en")
    chat, user = sandbox.world.private_chat(OTHER_OPERATOR), sandbox.world.user(OTHER_OPERATOR)
    while (message := sandbox.world.new_message(chat, user, text="x"))[
        "message_id"
    ] < preview.message_id:
        pass
    assert message["message_id"] == preview.message_id
    elsewhere = sandbox.press_button(OTHER_OPERATOR, preview.message_id, OTHER_OPERATOR, data)
    source = min(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)  # same chat
    beside = sandbox.press_button(OPERATOR, source, OPERATOR, data)
    await run_clock(app, sandbox, clock, 5)
    for update in (elsewhere, beside):
        query = sandbox.world.callback_queries[update["callback_query"]["id"]]
        assert query["answered"] and "card" in str(query["answer"]["text"])
    assert not copies(sandbox, members)
    assert await _broadcast_status(app) == "draft"
    assert not [c for c in sandbox.calls if c.method == "editMessageText"]

    _press(sandbox, OPERATOR, preview, data)  # on the card itself: it runs
    await run_clock(app, sandbox, clock, 10)
    assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
    edits = [c for c in sandbox.calls if c.method == "editMessageText"]
    assert edits and all(
        c.ok and c.params["chat_id"] == OPERATOR and c.params["message_id"] == preview.message_id
        for c in edits
    )
    assert await _broadcast_status(app) == "done"
