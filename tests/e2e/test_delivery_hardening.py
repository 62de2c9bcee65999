"""Delivery hardening end to end: a send whose answer cannot be read is settled once, a send
that raises is given up like any fault, button answers never undo a press, and broadcast
buttons count only on their own card."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import OutboxMessage
from bot.db.repositories import OutboxRepository
from bot.delivery.sender import TelegramSender
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.e2e.helpers import settle

CODE = re.compile(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")


async def _rows(app: SopBot, chat_id: int) -> list[OutboxMessage]:
    async with app.sessions() as session:
        return list((await session.execute(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
            .order_by(OutboxMessage.id))).scalars())


# -- item 6: sends with an unknown result, sends that raise ------------------------------------

async def test_a_gift_dm_whose_answer_is_unreadable_is_delivered_once(
        app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> None:
    sandbox.add_user(11_001, "Una", language_code="en")
    sandbox.garble_next("sendMessage")      # delivered, but the answer is not a Message
    sandbox.user_sends(11_001, "/start src_ads")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(11_001)) == 1)
    await settle(app, sandbox)
    for _ in range(8):                      # 8 minutes: more than five leases of 90 s
        clock.advance(seconds=60)
        await settle(app, sandbox)
    [gift] = sandbox.sent_messages(11_001)
    assert CODE.search(gift.text), gift.text
    assert [c.method for c in sandbox.calls if c.params.get("chat_id") == 11_001] == \
        ["sendMessage"]
    [row] = await _rows(app, 11_001)
    assert (row.status, row.message_id, row.attempts) == ("sent_unknown", None, 1)
    assert row.sent_at is not None and "unreadable" in (row.last_error or "")


async def test_a_send_that_raises_is_given_up_after_the_max_attempts(
        app: SopBot, sandbox: TelegramSandbox, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken, tries = 11_101, []
    real = TelegramSender.send

    async def raising(self: TelegramSender, chat_id: int, chat_kind: str, method: str,
                      payload: dict[str, Any]) -> Any:
        if chat_id == broken:
            tries.append(clock.now())
            raise RuntimeError("a bug in the sender")
        return await real(self, chat_id, chat_kind, method, payload)

    monkeypatch.setattr(TelegramSender, "send", raising)
    sandbox.add_user(broken, "Bug")
    async with app.db.transaction() as session:
        await OutboxRepository(session).enqueue(
            key="bug:1", chat_id=broken, chat_kind="private", purpose="test",
            payload={"text": "never"}, now=clock.now())
    app.delivery.wake()
    for _ in range(60):                     # 5 hours, 5 minutes a step
        await settle(app, sandbox)
        [row] = await _rows(app, broken)
        if row.status != "sending":
            break
        clock.advance(minutes=5)
    assert row.status == "failed", (row.status, row.attempts, len(tries))
    assert len(tries) == row.attempts == 20
    assert (row.last_error or "").startswith("gave up after 20 attempts: unexpected RuntimeError")
    clock.advance(hours=1)
    await settle(app, sandbox)
    assert len(tries) == 20                 # and never again
