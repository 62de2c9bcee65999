"""/broadcast end to end: preview, Send, Cancel, progress, resume after a crash, A/B, refusals."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import Coupon, Member
from bot.db.models.broadcast import Broadcast, BroadcastRecipient
from bot.db.repositories.broadcasts import BroadcastRepository
from sandbox import SentMessage, TelegramSandbox
from sandbox.methods_copy import user_sends_photo
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, OPERATOR, TEAM_CHAT, settings_for
from tests.e2e.helpers import (
    button,
    card,
    copies,
    draft,
    has_card,
    run_clock,
    seed,
    settle,
    until,
)

FIRST = 70_001


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(
        CONFIG_YAML
        + """
sop:
  quiet_hours: "off"
broadcasts:
  backlog: 10
  ab_window: 48h
templates: null
""",
        "tests/e2e/test_broadcast.py",
    )


async def operator_says(
    sandbox: TelegramSandbox, text: str, *, reply_to: int | None = None, chat: int | None = None
) -> None:
    sandbox.user_sends(OPERATOR, text, reply_to_message_id=reply_to, chat_id=chat)


async def press(
    app: SopBot, sandbox: TelegramSandbox, who: int, message: SentMessage, data: str
) -> dict[str, object]:
    """``who`` presses the card's button whose data starts with ``data``."""
    if data.endswith(":"):
        data = button(message, data)
    update = sandbox.press_button(who, message.message_id, message.chat_id, data)
    query_id = update["callback_query"]["id"]
    await sandbox.wait_for(lambda: sandbox.world.callback_queries[query_id]["answered"])
    await settle(app, sandbox)
    answer: dict[str, object] = sandbox.world.callback_queries[query_id]["answer"]
    return answer


async def test_preview_then_send_reaches_each_reachable_member_once(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 45))
    blocked = await seed(app, sandbox, [FIRST + 100])
    sandbox.world.blocked.add(FIRST + 100)  # blocked the bot since: 403 on send
    unreachable = await seed(app, sandbox, [FIRST + 200], reachable=False)
    preview = await draft(app, sandbox, "/broadcast all")
    assert "Audience: <b>46</b>" in preview.text  # the never-started one is not counted
    # the preview: the message itself copied back to the operator, before the card
    copied = [m for m in sandbox.sent_messages(OPERATOR) if m.method == "copyMessage"]
    assert [m.text for m in copied] == ["Big sale tonight!"]
    await run_clock(app, sandbox, clock, 5)
    assert not copies(sandbox, members + blocked + unreachable), "sent before Send"

    answer = await press(app, sandbox, OPERATOR, preview, "bc:send:")
    assert answer["text"] == "Sending…"
    await run_clock(app, sandbox, clock, 30)
    assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
    assert not copies(sandbox, unreachable)
    assert all(m.text == "Big sale tonight!" for m in sandbox.sent_messages(FIRST))
    # progress edited in place, then the tally
    final = sandbox.get_message(OPERATOR, preview.message_id)
    assert final is not None and "done" in final.text and "▓▓▓▓▓▓▓▓▓▓" in final.text
    assert "sent 45" in final.text and "blocked 1" in final.text
    assert final.reply_markup is None  # no Cancel once it is over
    tally = sandbox.sent_messages(OPERATOR)[-1].text
    assert "finished" in tally and "sent 45, blocked 1, failed 0 of 46" in tally
    async with app.sessions() as session:
        member = await session.get(Member, FIRST + 100)
        assert member is not None and member.unreachable_at is not None
    assert sandbox.count_errors(429) == 0 and sandbox.early_retries == 0


async def test_photo_is_copied_with_its_caption(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 3))
    user_sends_photo(sandbox, OPERATOR, "New <collection>")
    source = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    await operator_says(sandbox, "/broadcast reachable", reply_to=source)
    await until(app, sandbox, lambda: has_card(sandbox))
    await press(app, sandbox, OPERATOR, card(sandbox), "bc:send:")
    await run_clock(app, sandbox, clock, 5)
    for uid in members:
        [copy] = sandbox.sent_messages(uid)
        stored = sandbox.world.messages[(uid, copy.message_id)]
        assert stored["photo"] and stored["caption"] == "New <collection>"


async def test_template_broadcast_is_rendered_in_each_members_language(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    english = await seed(app, sandbox, range(FIRST, FIRST + 3), language="en")
    chinese = await seed(app, sandbox, range(FIRST + 10, FIRST + 13), language="zh-hans")
    await operator_says(sandbox, "/broadcast all template broadcast_cancelled")
    await until(app, sandbox, lambda: has_card(sandbox))
    assert "Cancelled." in [m.text for m in sandbox.sent_messages(OPERATOR)]  # the preview
    await press(app, sandbox, OPERATOR, card(sandbox), "bc:send:")
    await run_clock(app, sandbox, clock, 5)
    assert {m.text for uid in english for m in sandbox.sent_messages(uid)} == {"Cancelled."}
    assert {m.text for uid in chinese for m in sandbox.sent_messages(uid)} == {"已取消。"}


async def test_cancel_before_send_sends_nothing(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 5))
    preview = await draft(app, sandbox, "/broadcast all")
    answer = await press(app, sandbox, OPERATOR, preview, "bc:cancel:")
    assert answer["text"] == "Cancelled."
    again = await press(app, sandbox, OPERATOR, preview, "bc:send:")
    assert "already" in str(again["text"])
    await run_clock(app, sandbox, clock, 10)
    assert not copies(sandbox, members)
    assert any("cancelled; nothing was sent" in m.text for m in sandbox.sent_messages(OPERATOR))


async def test_cancel_while_sending_drops_the_rest(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 150))
    preview = await draft(app, sandbox, "/broadcast all")
    await press(app, sandbox, OPERATOR, preview, "bc:send:")
    await run_clock(app, sandbox, clock, 2)
    sent_before = sum(copies(sandbox, members).values())
    assert 0 < sent_before < 150
    progress = sandbox.get_message(OPERATOR, preview.message_id)
    assert progress is not None and "bc:cancel:" in str(progress.reply_markup)
    answer = await press(app, sandbox, OPERATOR, preview, "bc:cancel:")
    assert answer["text"] == "Cancelled."
    await run_clock(app, sandbox, clock, 20)
    got = copies(sandbox, members)
    assert max(got.values()) == 1
    # what the sender held at the press still went (at most the backlog); the rest was dropped
    assert sum(got.values()) <= sent_before + 2 * 10 + 30
    async with app.sessions() as session:
        tally = await BroadcastRepository(session).tally(await _only_broadcast(session))
    assert tally.sent == sum(got.values()) and tally.pending == 0
    assert tally.dropped == 150 - tally.sent
    final = sandbox.get_message(OPERATOR, preview.message_id)
    assert final is not None and "cancelled" in final.text and final.reply_markup is None


async def test_progress_is_edited_at_most_every_few_seconds(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 300))
    preview = await draft(app, sandbox, "/broadcast all")
    await press(app, sandbox, OPERATOR, preview, "bc:send:")
    await run_clock(
        app,
        sandbox,
        clock,
        60,
        until=lambda: any("finished" in m.text for m in sandbox.sent_messages(OPERATOR)),
    )
    assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
    edits = [call.at for call in sandbox.calls if call.method == "editMessageText" and call.ok]
    assert len(edits) >= 3  # it moved while sending
    running = edits[1:-1]  # not the Send press nor the final tally
    assert all(b - a >= 5 for a, b in itertools.pairwise(running))
    texts = {call.params["text"] for call in sandbox.calls if call.method == "editMessageText"}
    assert any("ETA" in text and "pending" in text for text in texts)


async def _only_broadcast(session) -> int:  # type: ignore[no-untyped-def]
    return int((await session.execute(select(Broadcast.id))).scalar_one())


async def test_non_operators_are_refused_and_cannot_press(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 3))
    stranger = FIRST + 500
    sandbox.add_user(stranger, "Stranger", language_code="en")
    sandbox.user_sends(stranger, "hello")
    source = max(k[1] for k in sandbox.world.messages if k[0] == stranger)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    sandbox.user_sends(stranger, "/broadcast all", reply_to_message_id=source)
    await until(
        app, sandbox, lambda: any("team only" in m.text for m in sandbox.sent_messages(stranger))
    )
    preview = await draft(app, sandbox, "/broadcast all")
    for data in ("bc:send:", "bc:cancel:"):
        answer = await press(app, sandbox, stranger, preview, data)
        assert answer["show_alert"] and "operations team" in str(answer["text"])
    await run_clock(app, sandbox, clock, 5)
    assert not copies(sandbox, members)
    async with app.sessions() as session:
        assert (await session.execute(select(Broadcast.status))).scalar_one() == "draft"


async def test_bad_input_gets_one_line_answers(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    async def answer(command: str, reply_to: int | None = None) -> str:
        before = len(sandbox.sent_messages(OPERATOR))
        await operator_says(sandbox, command, reply_to=reply_to)
        await until(app, sandbox, lambda: len(sandbox.sent_messages(OPERATOR)) > before)
        return sandbox.sent_messages(OPERATOR)[before].text

    assert (await answer("/broadcast all")).startswith("Usage:")  # no reply
    assert (await answer("/broadcast")).startswith("Usage:")
    text = await answer("/broadcast vips template")
    assert text.startswith("Usage:") and "\n" not in text
    sandbox.user_sends(OPERATOR, "x" * 4000)
    source = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    unknown = await answer("/broadcast " + "v" * 3000, reply_to=source)
    assert unknown.startswith("No segment") and "reachable" in unknown and len(unknown) < 300
    assert (await answer("/broadcast all template no_such_thing")).startswith("No template")
    assert "variant B" in await answer("/broadcast variant b", reply_to=source)
    # a huge message is previewed and sent like any other
    preview = await draft(app, sandbox, "/broadcast all", text="y" * 4096)
    assert "Audience: <b>0</b>" in preview.text
    async with app.sessions() as session:
        assert (await session.execute(select(Broadcast.segment))).scalars().all() == ["all"]


async def test_resume_after_a_killed_process_no_duplicate_no_gap(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings = settings_for(sandbox.url, database_url)
    first = SopBot(settings, config, clock=clock, polling_timeout=1)
    await first.start()
    members = await seed(first, sandbox, range(FIRST, FIRST + 120))
    preview = await draft(first, sandbox, "/broadcast all")
    await press(first, sandbox, OPERATOR, preview, "bc:send:")
    await run_clock(first, sandbox, clock, 2)
    sent_before = sum(copies(sandbox, members).values())
    assert 0 < sent_before < 120
    await first.abort()  # killed mid-broadcast
    second = SopBot(settings, config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        await run_clock(
            second, sandbox, clock, 200, until=lambda: len(copies(sandbox, members)) == 120
        )
        await run_clock(second, sandbox, clock, 5)
        assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
        final = sandbox.get_message(OPERATOR, preview.message_id)
        assert final is not None and "sent 120" in final.text and "done" in final.text
    finally:
        await second.stop()


async def test_ab_split_and_report(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 60))
    sandbox.user_sends(OPERATOR, "Variant A text")
    a = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    await operator_says(sandbox, "/broadcast all ab", reply_to=a)
    await until(app, sandbox, lambda: has_card(sandbox))
    waiting = card(sandbox)
    assert "variant b" in waiting.text
    assert "bc:send:" not in str(waiting.reply_markup)  # no Send before variant B
    forged = await press(
        app, sandbox, OPERATOR, waiting, button(waiting, "bc:cancel:").replace("cancel", "send")
    )
    assert "Variant B is missing" in str(forged["text"])
    clock.advance(seconds=2)
    sandbox.user_sends(OPERATOR, "Variant B text")
    b = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    await operator_says(sandbox, "/broadcast variant b", reply_to=b)
    await until(app, sandbox, lambda: "bc:send:" in str(card(sandbox).reply_markup))
    await press(app, sandbox, OPERATOR, card(sandbox), "bc:send:")
    await run_clock(app, sandbox, clock, 10)
    got = {uid: [m.text for m in sandbox.sent_messages(uid)] for uid in members}
    assert all(len(texts) == 1 for texts in got.values())
    group_a = [uid for uid, texts in got.items() if texts == ["Variant A text"]]
    group_b = [uid for uid, texts in got.items() if texts == ["Variant B text"]]
    assert len(group_a) + len(group_b) == 60 and 15 <= len(group_a) <= 45
    async with app.sessions() as session:
        stored = dict(
            (
                await session.execute(
                    select(BroadcastRecipient.user_id, BroadcastRecipient.variant)
                )
            ).all()
        )
    assert {uid for uid, v in stored.items() if v == "b"} == set(group_b)  # as recorded

    # two of B reply, one of A redeems a coupon; then the window passes
    clock.advance(hours=1)
    for uid in group_b[:2]:
        sandbox.user_sends(uid, "interested!")
    async with app.db.transaction() as session:
        session.add(
            Coupon(
                code=f"BC{group_a[0]}",
                campaign="newcomer",
                user_id=group_a[0],
                issued_by="test",
                issued_at=clock.now(),
                expires_at=clock.now() + timedelta(days=7),
                redeemed_at=clock.now(),
            )
        )
    await settle(app, sandbox)
    assert not [m for m in sandbox.sent_messages(TEAM_CHAT) if "A/B 报告" in m.text]
    clock.advance(hours=47, minutes=1)
    await run_clock(app, sandbox, clock, 3)
    # the team chat speaks the community's default language (zh here)
    [report] = [m.text for m in sandbox.sent_messages(TEAM_CHAT) if "A/B 报告" in m.text]
    assert f"A 版：{len(group_a)} 人，送达 {len(group_a)}，回复 0，核销优惠券 1" in report
    assert f"B 版：{len(group_b)} 人，送达 {len(group_b)}，回复 2，核销优惠券 0" in report


async def test_segment_audience_and_team_chat_card(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, range(FIRST, FIRST + 4))
    preview = await draft(app, sandbox, "/broadcast reachable", chat=TEAM_CHAT)
    assert "Audience: <b>4</b>" in preview.text
    answer = await press(app, sandbox, OPERATOR, preview, "bc:send:")
    assert answer["text"] == "Sending…"
    await run_clock(app, sandbox, clock, 5)
    assert any("finished" in m.text for m in sandbox.sent_messages(TEAM_CHAT))


async def test_reports_interface_finished_and_stuck(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 5))
    started = clock.now()
    preview = await draft(app, sandbox, "/broadcast all")
    await press(app, sandbox, OPERATOR, preview, "bc:send:")
    await run_clock(app, sandbox, clock, 5)
    assert sum(copies(sandbox, members).values()) == 5
    async with app.sessions() as session:
        repo = BroadcastRepository(session)
        [done] = await repo.finished_between(started, clock.now() + timedelta(seconds=1))
        assert (done.segment, done.sent, done.blocked, done.failed) == ("all", 5, 0, 0)
        assert await repo.finished_between(started - timedelta(days=1), started) == []
        assert await repo.stuck(clock.now(), timedelta(minutes=5)) == []


async def test_quiet_hours_hold_a_broadcast_when_configured(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    config = parse_config(
        CONFIG_YAML
        + """
sop:
  quiet_hours: "22:00-08:00"
broadcasts:
  respect_quiet_hours: true
""",
        "tests/e2e/test_broadcast.py",
    )
    clock.advance(hours=13, minutes=30)  # 22:30 in Shanghai
    app = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        members = await seed(app, sandbox, range(FIRST, FIRST + 5))
        preview = await draft(app, sandbox, "/broadcast all")
        assert "During quiet hours it waits" in preview.text
        await press(app, sandbox, OPERATOR, preview, "bc:send:")
        await run_clock(app, sandbox, clock, 5)
        assert not copies(sandbox, members)
        held = sandbox.get_message(OPERATOR, preview.message_id)
        assert held is not None and "Waiting for quiet hours to end (08:00)" in held.text
        clock.advance(hours=9, minutes=29)  # 07:59 + a few seconds
        await run_clock(app, sandbox, clock, 3)
        assert not copies(sandbox, members)
        await run_clock(app, sandbox, clock, 70, until=lambda: len(copies(sandbox, members)) == 5)
        assert copies(sandbox, members) == Counter({uid: 1 for uid in members})
        async with app.sessions() as session:  # held on purpose is not "stuck"
            assert await BroadcastRepository(session).stuck(clock.now(), timedelta(minutes=5)) == []
    finally:
        await app.stop()
