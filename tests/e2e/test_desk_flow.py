"""The service desk's flow end to end: forum topics, /close and ratings, claims, /tickets, the
clock (holding reply, reminder), autoclose, a member who blocked the bot, an uncopyable message,
a flood of messages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.desk import DeskTicket
from bot.db.repositories import TagRepository
from bot.services.desk.routing import RELAY_BURST
from bot.services.dto import Person
from bot.services.members.ledger import LedgerService
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, TOKEN
from tests.e2e.desk_support import copies_of, desk_config, relay_of, team_texts, write
from tests.e2e.helpers import settle

BOB = 7101


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


@pytest.fixture
def bob(sandbox: TelegramSandbox) -> int:
    sandbox.add_user(BOB, "Bob", username="bob_b", language_code="en")
    return BOB


async def _ticket(app: SopBot) -> DeskTicket:
    async with app.sessions() as session:
        return (await session.execute(select(DeskTicket))).scalar_one()


async def _ask(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int) -> int:
    """``user`` asks something the FAQ does not know; returns the relay's id in the team chat."""
    message = await write(app, sandbox, clock, user, "my parcel has not arrived, what now?")
    return relay_of(sandbox, user, message["message_id"])


async def test_close_asks_for_one_rating_only_the_member_can_give(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    relay = await _ask(app, sandbox, clock, bob)
    clock.advance(seconds=30)
    sandbox.user_sends(OPERATOR, "On its way!", chat_id=TEAM_CHAT, reply_to_message_id=relay)
    await settle(app, sandbox)
    clock.advance(seconds=30)
    sandbox.user_sends(OPERATOR, "/close", chat_id=TEAM_CHAT, reply_to_message_id=relay)
    await settle(app, sandbox)
    assert any("closed" in t for t in team_texts(sandbox))
    rate = next(m for m in sandbox.sent_messages(bob) if m.reply_markup and "Rate" in m.text)
    buttons = [b for row in rate.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert len(buttons) == 5
    sandbox.add_user(7102, "Eve", language_code="en")
    await write(app, sandbox, clock, 7102, "hi")  # Eve can reach the bot, not Bob's buttons
    sandbox.press_button(7102, rate.message_id, bob, buttons[0]["callback_data"])
    await settle(app, sandbox)
    async with app.sessions() as session:
        ticket = (
            await session.execute(select(DeskTicket).where(DeskTicket.user_id == bob))
        ).scalar_one()
    assert ticket.status == "closed" and ticket.close_reason == "resolved" and ticket.rating is None
    sandbox.press_button(bob, rate.message_id, bob, buttons[3]["callback_data"])
    await settle(app, sandbox)
    sandbox.press_button(bob, rate.message_id, bob, buttons[0]["callback_data"])  # again: kept
    await settle(app, sandbox)
    async with app.sessions() as session:
        ticket = (
            await session.execute(select(DeskTicket).where(DeskTicket.user_id == bob))
        ).scalar_one()
    assert ticket.rating == 4
    assert ticket.first_response_seconds == 30 and ticket.within_sla
    # a new message reopens it
    await write(app, sandbox, clock, bob, "one more thing")
    reopened = await _ticket_of(app, bob)
    assert reopened.status == "open" and reopened.reopened == 1


async def _ticket_of(app: SopBot, user: int) -> DeskTicket:
    async with app.sessions() as session:
        return (
            await session.execute(select(DeskTicket).where(DeskTicket.user_id == user))
        ).scalar_one()


async def test_answer_sends_an_faq_entry_and_tickets_lists_the_open_ones(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    relay = await _ask(app, sandbox, clock, bob)
    clock.advance(minutes=6)  # past the 5-minute first-response time
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, "/tickets", chat_id=TEAM_CHAT)
    await settle(app, sandbox)
    listing = team_texts(sandbox)[-1]
    assert "#1" in listing and "Bob" in listing and "⏰" in listing
    sandbox.user_sends(OPERATOR, "/answer 2", chat_id=TEAM_CHAT, reply_to_message_id=relay)
    await settle(app, sandbox)
    clock.advance(seconds=2)  # after the holding reply: one message a second to a private chat
    await settle(app, sandbox)
    assert any("20:00" in m.text for m in sandbox.sent_messages(bob))
    ticket = await _ticket_of(app, bob)
    assert ticket.status == "answered" and not ticket.within_sla and ticket.claimed_by == OPERATOR


async def test_the_clock_holding_reply_once_reminder_and_autoclose(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    relay = await _ask(app, sandbox, clock, bob)
    clock.advance(minutes=4)
    await settle(app, sandbox)
    assert sandbox.sent_messages(bob) == []
    clock.advance(minutes=2)
    await settle(app, sandbox)
    [holding] = sandbox.sent_messages(bob)
    assert "within 5m" in holding.text
    assert any("#1" in t and "5m" in t for t in team_texts(sandbox))  # the reminder
    clock.advance(minutes=10)
    await settle(app, sandbox)
    assert len(sandbox.sent_messages(bob)) == 1  # once
    sandbox.user_sends(OPERATOR, "Sorry for the wait", chat_id=TEAM_CHAT, reply_to_message_id=relay)
    await settle(app, sandbox)
    clock.advance(hours=2, minutes=1)  # service.autoclose: 2h of silence after the answer
    await settle(app, sandbox)
    ticket = await _ticket_of(app, bob)
    assert ticket.status == "closed" and ticket.close_reason == "autoclosed"


async def test_an_answer_to_a_member_who_blocked_the_bot(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    relay = await _ask(app, sandbox, clock, bob)
    sandbox.block_bot(bob)
    await settle(app, sandbox)
    clock.advance(seconds=10)
    answer = sandbox.user_sends(
        OPERATOR, "Here you go", chat_id=TEAM_CHAT, reply_to_message_id=relay
    )
    await settle(app, sandbox)
    note = next(m for m in sandbox.sent_messages(TEAM_CHAT) if "已屏蔽机器人" in m.text)
    assert note.reply_to_message_id == answer["message"]["message_id"]
    ticket = await _ticket_of(app, bob)
    assert ticket.status == "closed" and ticket.close_reason == "undeliverable"


async def test_a_message_telegram_cannot_copy(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    sandbox.delay("copyMessage", 0.3)
    clock.advance(seconds=2)
    update = sandbox.user_sends_media(bob, "photo", "look")
    await sandbox.wait_for(lambda: any(c.method == "sendMessage" for c in sandbox.calls))
    sandbox.user_deletes(bob, update["message"]["message_id"])  # before the copy is made
    sandbox.delay("copyMessage", 0)
    await settle(app, sandbox)
    # the team chat speaks default_locale (zh): "could not be shown here"
    assert any("无法显示在这里" in t and str(bob) in t for t in team_texts(sandbox))
    assert any("send it again" in m.text for m in sandbox.sent_messages(bob))


async def test_fifty_messages_in_ten_seconds_are_one_ticket_and_a_few_relays(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, bob: int
) -> None:
    for n in range(50):
        sandbox.user_sends(bob, f"hello? {n}")
        if n % 5 == 4:
            clock.advance(seconds=1)
    await settle(app, sandbox)
    for _ in range(6):  # the copies go a slot apart (61/17 s)
        clock.advance(seconds=4)
        await settle(app, sandbox)
    ticket = await _ticket_of(app, bob)
    assert ticket.messages == 50 and ticket.unrelayed == 50 - RELAY_BURST
    assert len(copies_of(sandbox, bob, TEAM_CHAT)) == RELAY_BURST
    assert len(sandbox.sent_messages(TEAM_CHAT)) == RELAY_BURST + 1  # and the card


# -- office hours and VIP routing (plain team chat) ------------------------------------------------


VIP_CONFIG = desk_config(
    "  hours: mon-fri 10:00-18:00\n  vip:\n    vip: concierge\n",
    team=f"  roles:\n    concierge: [{OPERATOR}]\n",
)


async def test_outside_office_hours_and_a_vip_member(
    plain: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    """09:00 on a Friday in Shanghai: an hour before the office opens."""
    from tests.conftest import settings_for

    config = VIP_CONFIG
    app = SopBot(settings_for(plain.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        async with app.sessions() as session, session.begin():
            await LedgerService(session, config.tz).seen(Person(BOB, "Bob"), clock.now())
            await TagRepository(session).add(BOB, "vip", "test", clock.now())
        message = await write(app, plain, clock, BOB, "my parcel has not arrived, what now?")
        assert relay_of(plain, BOB, message["message_id"])  # still relayed
        [after_hours] = plain.sent_messages(BOB)
        assert "away" in after_hours.text and "Fri 10:00" in after_hours.text
        card = next(t for t in team_texts(plain) if "tg://user?id=" in t)
        assert "concierge" in card
        clock.advance(minutes=30)  # 09:30: no office time has passed, no holding reply
        await settle(app, plain)
        assert len(plain.sent_messages(BOB)) == 1
        clock.advance(minutes=34)  # 10:04: four office minutes
        await settle(app, plain)
        assert len(plain.sent_messages(BOB)) == 1
        clock.advance(minutes=2)  # 10:06: past the five
        await settle(app, plain)
        assert len(plain.sent_messages(BOB)) == 2
        assert "within 5m" in plain.sent_messages(BOB)[-1].text
    finally:
        await app.stop()


@pytest.fixture
async def plain(clock: ManualClock) -> AsyncIterator[TelegramSandbox]:
    sb = TelegramSandbox(token=TOKEN, clock=clock.timestamp)
    sb.add_chat(COMMUNITY, "supergroup", "Demo community")
    sb.add_chat(TEAM_CHAT, "supergroup", "Team")
    sb.add_user(OPERATOR, "Olga", username="olga", language_code="en")
    sb.add_user(BOB, "Bob", username="bob_b", language_code="en")
    await sb.start()
    yield sb
    await sb.stop()
