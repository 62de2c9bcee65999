"""Who is an operator: only what Telegram says of the team chat counts — getChatMember,
chat_member updates and messages sent there — never a button press on a team chat message,
and nothing learnt is believed forever."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import AuditEntry, Question
from handlers.filters import OperatorDirectory
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, settings_for
from tests.e2e.helpers import settle

STRANGER = 4242  # not in the team chat
ASKER = 4300  # a member with a question
TEAMMATE = 4250  # in the team chat (Telegram says so), never spoke there


async def _ask(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, text: str
) -> list[str]:
    """``user`` writes ``text`` to the bot; the texts it answered with (the clock moves two
    seconds first: one message a second to a private chat)."""
    await settle(app, sandbox)
    clock.advance(seconds=2)
    before = len(sandbox.sent_messages(user))
    sandbox.user_sends(user, text)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) > before)
    await settle(app, sandbox)
    return [m.text for m in sandbox.sent_messages(user)[before:]]


async def _press(
    app: SopBot, sandbox: TelegramSandbox, user: int, chat: int, message_id: int, data: str
) -> dict[str, object]:
    update = sandbox.press_button(user, message_id, chat, data)
    query_id = update["callback_query"]["id"]
    await sandbox.wait_for(lambda: sandbox.world.callback_queries[query_id]["answered"])
    await settle(app, sandbox)
    answer: dict[str, object] = sandbox.world.callback_queries[query_id]["answer"]
    return answer


async def _started(app: SopBot, sandbox: TelegramSandbox, user: int, name: str) -> None:
    sandbox.add_user(user, name, language_code="en")
    sandbox.user_sends(user, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) >= 1)
    await settle(app, sandbox)


async def _question_answered_by(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, answerer: int
) -> int | None:
    """ASKER asks in the community, ``answerer`` replies there: who the question counts as
    answered by (``None``: still waiting for the team)."""
    await settle(app, sandbox)
    clock.advance(seconds=2)
    asked = sandbox.user_sends(ASKER, "How do I get the newcomer coupon?", chat_id=COMMUNITY)
    await settle(app, sandbox)
    clock.advance(seconds=5)
    sandbox.user_sends(
        answerer,
        "Check the pinned post",
        chat_id=COMMUNITY,
        reply_to_message_id=asked["message"]["message_id"],
    )
    await settle(app, sandbox)
    async with app.sessions() as session:
        question = (
            await session.execute(
                select(Question).where(Question.message_id == asked["message"]["message_id"])
            )
        ).scalar_one()
    return question.answered_by


def _team_only(texts: list[str]) -> bool:
    return len(texts) == 1 and "team only" in texts[0] and not re.search(r"\d", texts[0])


def _get_chat_member_calls(sandbox: TelegramSandbox, user: int) -> int:
    return sum(
        1
        for call in sandbox.calls
        if call.method == "getChatMember" and int(call.params.get("user_id", 0)) == user
    )


async def test_a_button_press_in_the_team_chat_makes_nobody_an_operator(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _started(app, sandbox, STRANGER, "Mallory")
    sandbox.add_user(ASKER, "Ann", language_code="en")
    for user in (STRANGER, ASKER):
        sandbox.user_joins(COMMUNITY, user)
    await settle(app, sandbox)
    # a broadcast card in the team chat, and an operator's plain message there
    source = sandbox.user_sends(OPERATOR, "Big sale tonight!", chat_id=TEAM_CHAT)
    await settle(app, sandbox)
    sandbox.user_sends(
        OPERATOR,
        "/broadcast all",
        chat_id=TEAM_CHAT,
        reply_to_message_id=source["message"]["message_id"],
    )
    await sandbox.wait_for(
        lambda: any(
            m.reply_markup and "bc:send:" in str(m.reply_markup)
            for m in sandbox.sent_messages(TEAM_CHAT)
        )
    )
    await settle(app, sandbox)
    card = [m for m in sandbox.sent_messages(TEAM_CHAT) if "bc:send:" in str(m.reply_markup)][-1]
    send = re.search(r"'(bc:send:\d+)'", str(card.reply_markup))
    assert send is not None

    # Telegram delivers a press from anyone who sees the message (a forwarded card, a former
    # teammate's client); a client can also forge the data of a button that is not there
    pressed = await _press(app, sandbox, STRANGER, TEAM_CHAT, card.message_id, send.group(1))
    forged = await _press(
        app, sandbox, STRANGER, TEAM_CHAT, source["message"]["message_id"], "bc:cancel:1"
    )
    for answer in (pressed, forged):
        assert answer["show_alert"] and "operations team" in str(answer["text"])

    assert _team_only(await _ask(app, sandbox, clock, STRANGER, "/kpi"))
    assert _team_only(await _ask(app, sandbox, clock, STRANGER, f"/member {ASKER}"))
    assert _team_only(await _ask(app, sandbox, clock, STRANGER, "/export members"))
    assert sandbox.sent_files(STRANGER) == []
    # nor do the stranger's answers in the community count as the team's
    assert await _question_answered_by(app, sandbox, clock, STRANGER) is None
    async with app.sessions() as session:
        results = list(
            (
                await session.execute(
                    select(AuditEntry.result).where(AuditEntry.user_id == STRANGER)
                )
            ).scalars()
        )
    assert results == ["refused"] * 3


async def test_a_team_chat_member_is_still_an_operator(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(TEAMMATE, "Tess", language_code="en")
    sandbox.set_admin(TEAM_CHAT, TEAMMATE, status="member")
    await _started(app, sandbox, TEAMMATE, "Tess")
    sandbox.add_user(ASKER, "Ann", language_code="en")
    sandbox.user_joins(COMMUNITY, ASKER)
    await settle(app, sandbox)
    [figures] = await _ask(app, sandbox, clock, TEAMMATE, "/kpi")
    assert "Members" in figures
    # a press of theirs on a team chat message changes nothing either way
    note = sandbox.user_sends(OPERATOR, "Morning all", chat_id=TEAM_CHAT)
    await settle(app, sandbox)
    await _press(app, sandbox, TEAMMATE, TEAM_CHAT, note["message"]["message_id"], "bc:cancel:1")
    assert "Members" in (await _ask(app, sandbox, clock, TEAMMATE, "/kpi"))[0]
    assert await _question_answered_by(app, sandbox, clock, TEAMMATE) == TEAMMATE


async def test_what_was_learnt_of_the_team_chat_expires(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    ticks = [0.0]
    app.dispatcher["operators"] = OperatorDirectory(ttl=300.0, clock=lambda: ticks[0])
    stays, leaves = TEAMMATE, TEAMMATE + 1
    for user, name in ((stays, "Tess"), (leaves, "Lou")):
        sandbox.add_user(user, name, language_code="en")
        sandbox.set_admin(TEAM_CHAT, user, status="member")
        await _started(app, sandbox, user, name)
        sandbox.user_joins(COMMUNITY, user)
    sandbox.add_user(ASKER, "Ann", language_code="en")
    sandbox.user_joins(COMMUNITY, ASKER)
    await settle(app, sandbox)
    for user in (stays, leaves):
        assert "Members" in (await _ask(app, sandbox, clock, user, "/kpi"))[0]
        assert _get_chat_member_calls(sandbox, user) == 1
    # removed from the team chat while the bot missed the update: believed until the entry expires
    sandbox.world.set_status(TEAM_CHAT, leaves, "left")
    ticks[0] = 299.0
    assert "Members" in (await _ask(app, sandbox, clock, leaves, "/kpi"))[0]
    assert _get_chat_member_calls(sandbox, leaves) == 1

    ticks[0] = 301.0  # both entries expired: a community message asks Telegram again first
    assert await _question_answered_by(app, sandbox, clock, leaves) is None
    assert _get_chat_member_calls(sandbox, leaves) == 2
    assert await _question_answered_by(app, sandbox, clock, stays) == stays
    assert _get_chat_member_calls(sandbox, stays) == 2
    assert _team_only(await _ask(app, sandbox, clock, leaves, "/kpi"))


async def test_after_a_restart_a_teammate_seen_before_is_asked_again(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    config: CommunityConfig,
    database_url: str,
) -> None:
    stays, leaves = TEAMMATE, TEAMMATE + 1
    sandbox.add_user(ASKER, "Ann", language_code="en")
    sandbox.user_joins(COMMUNITY, ASKER)
    for user, name in ((stays, "Tess"), (leaves, "Lou")):
        sandbox.add_user(user, name, language_code="en")
        sandbox.user_joins(COMMUNITY, user)
        sandbox.user_sends(user, "morning", chat_id=TEAM_CHAT)  # seen in the team chat
    await settle(app, sandbox)
    await app.stop()
    # removed while no bot was running: the bot never hears of it
    sandbox.world.set_status(TEAM_CHAT, leaves, "left")
    async with SopBot(
        settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1
    ) as again:
        assert await _question_answered_by(again, sandbox, clock, leaves) is None
        assert await _question_answered_by(again, sandbox, clock, stays) == stays
        assert _get_chat_member_calls(sandbox, stays) == 1  # asked once, then remembered
        assert await _question_answered_by(again, sandbox, clock, stays) == stays
        assert _get_chat_member_calls(sandbox, stays) == 1
