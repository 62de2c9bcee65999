"""The member service desk end to end (the contract's "Member service (private chat)"): a
member's private message gets an automatic FAQ answer or reaches the team chat showing who sent
it; an operator's reply reaches the member; nothing else of the team chat does; /help."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models.desk import DeskTicket
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TEAM_CHAT
from tests.e2e.desk_support import (
    FAQ_A,
    copies_of,
    desk_config,
    relay_of,
    team_texts,
    write,
)
from tests.e2e.helpers import settle

ANN = 7001


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


@pytest.fixture
def ann(sandbox: TelegramSandbox) -> int:
    sandbox.add_user(ANN, "Ann", username="ann_s", language_code="en")
    return ANN


async def _tickets(app: SopBot) -> list[DeskTicket]:
    async with app.sessions() as session:
        return list((await session.execute(select(DeskTicket).order_by(DeskTicket.id))).scalars())


async def test_a_question_reaches_the_team_chat_within_60s_showing_who_wrote(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    message = await write(app, sandbox, clock, ann, "my parcel has not arrived, what now?")
    card = next(t for t in team_texts(sandbox) if f"tg://user?id={ann}" in t)
    assert "Ann" in card and "@ann_s" in card and str(ann) in card
    relayed = [
        m for m in sandbox.sent_messages(TEAM_CHAT) if m.copied_from == (ann, message["message_id"])
    ]
    assert len(relayed) == 1
    assert relayed[0].at - message["date"] <= 60
    button = relayed[0].reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert "Ann" in button["text"] and "@ann_s" in button["text"]
    assert sandbox.sent_messages(ann) == []  # no automatic answer: it was no FAQ question
    tickets = await _tickets(app)
    assert [(t.user_id, t.status, t.automatic) for t in tickets] == [(ann, "open", False)]


async def test_a_confident_faq_match_is_answered_at_once_marked_automatic(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    message = await write(app, sandbox, clock, ann, "how can I change my shipping address?")
    [answer] = sandbox.sent_messages(ann)
    assert FAQ_A in answer.text and "Automatic answer" in answer.text
    assert answer.at - message["date"] <= 60
    button = answer.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert "person" in button["text"]
    assert sandbox.sent_messages(TEAM_CHAT) == []  # answered: the team is not bothered
    [ticket] = await _tickets(app)
    assert ticket.status == "answered" and ticket.automatic

    # "talk to a person": the member's question goes to the team after all
    clock.advance(seconds=2)
    sandbox.press_button(ann, answer.message_id, ann, button["callback_data"])
    await settle(app, sandbox)
    assert relay_of(sandbox, ann, message["message_id"])
    [ticket] = await _tickets(app)
    assert ticket.status == "open" and not ticket.automatic


async def test_another_member_cannot_press_a_members_buttons(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    await write(app, sandbox, clock, ann, "how can I change my shipping address?")
    [answer] = sandbox.sent_messages(ann)
    data = answer.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    sandbox.add_user(7002, "Mallory", language_code="en")
    await write(app, sandbox, clock, 7002, "hello")
    query = sandbox.press_button(7002, answer.message_id, ann, data)
    await settle(app, sandbox)
    assert "not for you" in str(
        sandbox.world.callback_queries[query["callback_query"]["id"]]["answer"]["text"]
    )
    [first, _] = await _tickets(app)
    assert first.status == "answered" and first.automatic  # nothing moved


async def test_hook_keywords_work_in_private(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    await write(app, sandbox, clock, ann, "666")
    assert len(sandbox.sent_messages(ann)) == 1  # the hook's material
    assert sandbox.sent_messages(TEAM_CHAT) == []


async def test_an_operators_reply_reaches_the_member_within_10s_media_included(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    message = await write(app, sandbox, clock, ann, "my parcel has not arrived, what now?")
    relay = relay_of(sandbox, ann, message["message_id"])
    clock.advance(seconds=5)
    reply = sandbox.user_sends(
        OPERATOR, "It left the warehouse today.", chat_id=TEAM_CHAT, reply_to_message_id=relay
    )
    await settle(app, sandbox)
    [answer] = copies_of(sandbox, TEAM_CHAT, ann)
    assert answer.copied_from == (TEAM_CHAT, reply["message"]["message_id"])
    assert answer.at - reply["message"]["date"] <= 10
    assert sandbox.world.message(ann, answer.message_id)["text"] == "It left the warehouse today."  # type: ignore[index]
    # a photo in reply to the card goes as a photo
    card = next(m for m in sandbox.sent_messages(TEAM_CHAT) if m.method == "sendMessage")
    clock.advance(seconds=5)
    photo = sandbox.user_sends_media(
        OPERATOR, "photo", "the label", chat_id=TEAM_CHAT, reply_to_message_id=card.message_id
    )
    await settle(app, sandbox)
    last = copies_of(sandbox, TEAM_CHAT, ann)[-1]
    assert last.copied_from == (TEAM_CHAT, photo["message"]["message_id"])
    assert "photo" in sandbox.world.message(ann, last.message_id)  # type: ignore[operator]
    [ticket] = await _tickets(app)
    assert ticket.status == "answered" and ticket.first_response_seconds == 5
    assert ticket.claimed_by == OPERATOR and ticket.within_sla


async def test_nothing_else_of_the_team_chat_reaches_a_member(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    message = await write(app, sandbox, clock, ann, "my parcel has not arrived, what now?")
    relay_of(sandbox, ann, message["message_id"])
    sandbox.add_user(7003, "Teammate", language_code="en")
    clock.advance(seconds=5)
    chatter = sandbox.user_sends(7003, "lunch anyone?", chat_id=TEAM_CHAT)
    sandbox.user_sends(
        OPERATOR, "no", chat_id=TEAM_CHAT, reply_to_message_id=chatter["message"]["message_id"]
    )
    await settle(app, sandbox)
    # a reply to a bot message that is no relay (a team notice) sends nothing either
    clock.advance(seconds=5)
    sandbox.user_sends(OPERATOR, "/kpi", chat_id=TEAM_CHAT)
    await settle(app, sandbox)
    kpi = sandbox.sent_messages(TEAM_CHAT)[-1]
    sandbox.user_sends(
        OPERATOR, "thanks bot", chat_id=TEAM_CHAT, reply_to_message_id=kpi.message_id
    )
    await settle(app, sandbox)
    assert sandbox.sent_messages(ann) == []
    assert [
        c for c in sandbox.calls if c.method == "copyMessage" and c.params.get("chat_id") == ann
    ] == []


@pytest.mark.parametrize("kind", ["photo", "video", "voice", "document", "sticker"])
async def test_every_kind_of_member_message_is_relayed(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int, kind: str
) -> None:
    clock.advance(seconds=2)
    update = sandbox.user_sends_media(ann, kind, "see this" if kind != "sticker" else "")
    await settle(app, sandbox)
    relay = relay_of(sandbox, ann, update["message"]["message_id"])
    assert kind in sandbox.world.message(TEAM_CHAT, relay)  # type: ignore[operator]


async def test_help_in_private(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, ann: int
) -> None:
    await write(app, sandbox, clock, ann, "/help")
    [member_help] = sandbox.sent_messages(ann)
    assert "Write to me" in member_help.text and "/kpi" not in member_help.text
    await write(app, sandbox, clock, OPERATOR, "/help")
    [operator_help] = sandbox.sent_messages(OPERATOR)
    assert "/kpi" in operator_help.text and "/answer" in operator_help.text
    assert sandbox.sent_messages(TEAM_CHAT) == []  # /help is no conversation
