"""Join protection end to end (issue 13): a join request challenged by DM (pass: the gift, then
the approval; a wrong press or no answer: declined), a plain join restricted and challenged in
the group (pass: unrestricted, greeted, gifted; no answer: removed, the challenge deleted),
another member's press changing nothing, and the timer kept across a restart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import Captcha, Member, ModAction
from sandbox import SentMessage, TelegramSandbox
from sandbox.actions import PostingRefused
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, settings_for
from tests.e2e.helpers import settle

REQUESTER, JOINER, OTHER = 6101, 6102, 6103
CAPTCHA_YAML = CONFIG_YAML.replace(
    "    title: Demo community\n",
    "    title: Demo community\n    captcha:\n      within: 2m\n",
)


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(CAPTCHA_YAML, "tests/e2e/test_captcha.py")


def _calls(sandbox: TelegramSandbox, method: str) -> list[dict[str, Any]]:
    return [c.params for c in sandbox.calls if c.method == method and c.ok]


def _answer(sandbox: TelegramSandbox, update: dict[str, Any]) -> dict[str, Any] | None:
    query = sandbox.world.callback_queries[update["callback_query"]["id"]]
    answer: dict[str, Any] | None = query.get("answer")
    return answer


def _right_button(dm: SentMessage) -> str:
    """The callback data of the picture the DM asks for."""
    wanted = re.search(r"press (\S+) below", dm.text)
    assert wanted is not None, dm.text
    for row in (dm.reply_markup or {})["inline_keyboard"]:
        for button in row:
            if button["text"] == wanted.group(1):
                data: str = button["callback_data"]
                return data
    raise AssertionError(f"no button {wanted.group(1)} in {dm.reply_markup}")


def _wrong_button(dm: SentMessage) -> str:
    right = _right_button(dm)
    for row in (dm.reply_markup or {})["inline_keyboard"]:
        for button in row:
            if button["callback_data"] != right:
                data: str = button["callback_data"]
                return data
    raise AssertionError("no wrong button")


async def _challenge_dm(app: SopBot, sandbox: TelegramSandbox, user: int) -> SentMessage:
    sandbox.add_user(user, f"U{user}", language_code="en")
    sandbox.join_request(COMMUNITY, user)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) == 1)
    await settle(app, sandbox)
    return sandbox.sent_messages(user)[0]


async def _actions(app: SopBot) -> list[tuple[int, str, str]]:
    async with app.sessions() as session:
        rows = (await session.execute(select(ModAction).order_by(ModAction.id))).scalars()
        return [(r.user_id, r.action, r.rule) for r in rows]


async def test_a_join_request_that_passes_gets_the_gift_then_the_approval(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    dm = await _challenge_dm(app, sandbox, REQUESTER)
    assert "press" in dm.text and sandbox.approved_requests == []  # nothing before the answer
    # someone else sending the right button's data (forged) changes nothing
    sandbox.add_user(OTHER, "Oz", language_code="en")
    stolen = sandbox.press_button(OTHER, dm.message_id, REQUESTER, _right_button(dm))
    forged = sandbox.press_button(REQUESTER, dm.message_id, REQUESTER, "cap:forged:0")
    await settle(app, sandbox)
    assert (_answer(sandbox, stolen) or {}).get("show_alert")
    assert (_answer(sandbox, forged) or {}).get("show_alert")
    assert sandbox.approved_requests == [] and sandbox.declined_requests == []
    press = sandbox.press_button(REQUESTER, dm.message_id, REQUESTER, _right_button(dm))
    await settle(app, sandbox)
    clock.advance(seconds=2)  # a private chat's next message waits a second
    await sandbox.wait_for(lambda: sandbox.approved_requests == [(COMMUNITY, REQUESTER)])
    await settle(app, sandbox)

    gift = sandbox.sent_messages(REQUESTER)[1]
    assert "Welcome" in gift.text
    approve = [c for c in sandbox.calls if c.method == "approveChatJoinRequest"]
    assert approve[0].at >= gift.at  # the gift went while the bot could still send it
    assert sandbox.declined_requests == []
    assert (_answer(sandbox, press) or {}).get("text", "").startswith("✅")
    assert (REQUESTER, "captcha_pass", "request") in await _actions(app)
    sandbox.user_sends(OPERATOR, "/kpi")
    await settle(app, sandbox)
    assert "captcha_pass 1" in sandbox.sent_messages(OPERATOR)[-1].text


async def test_a_wrong_press_declines_the_request(app: SopBot, sandbox: TelegramSandbox) -> None:
    dm = await _challenge_dm(app, sandbox, REQUESTER)
    press = sandbox.press_button(REQUESTER, dm.message_id, REQUESTER, _wrong_button(dm))
    await sandbox.wait_for(lambda: sandbox.declined_requests == [(COMMUNITY, REQUESTER)])
    await settle(app, sandbox)
    assert sandbox.approved_requests == []
    assert len(sandbox.sent_messages(REQUESTER)) == 1  # no gift
    answer = _answer(sandbox, press) or {}
    assert answer.get("show_alert") and "declined" in answer.get("text", "")

    # pressing again (the right one now) changes nothing
    again = sandbox.press_button(REQUESTER, dm.message_id, REQUESTER, _right_button(dm))
    await settle(app, sandbox)
    assert sandbox.approved_requests == [] and "over" in (_answer(sandbox, again) or {})["text"]
    actions = await _actions(app)
    assert (REQUESTER, "captcha_fail", "wrong") in actions
    assert (REQUESTER, "decline", "captcha") in actions


async def test_no_answer_in_time_declines_the_request(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _challenge_dm(app, sandbox, REQUESTER)
    clock.advance(seconds=90)
    await settle(app, sandbox)
    assert sandbox.declined_requests == []  # still within the 2 minutes
    clock.advance(seconds=31)
    await sandbox.wait_for(lambda: sandbox.declined_requests == [(COMMUNITY, REQUESTER)])
    assert sandbox.approved_requests == []
    assert (REQUESTER, "captcha_fail", "timeout") in await _actions(app)


async def _joins(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, *users: int) -> None:
    for user in users:
        sandbox.add_user(user, f"J{user}", language_code="en")
        sandbox.user_joins(COMMUNITY, user)
    await settle(app, sandbox)
    clock.advance(seconds=10)  # captcha.group_batch: the challenge goes
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    await settle(app, sandbox)


async def test_a_plain_join_is_restricted_then_freed_greeted_and_gifted_by_its_press(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(JOINER, "Jo", language_code="en")
    sandbox.user_sends(JOINER, "/start")  # the bot may DM them: the gift follows the pass
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(JOINER)) == 1)
    gifts = len(sandbox.sent_messages(JOINER))
    await settle(app, sandbox)
    sandbox.user_joins(COMMUNITY, JOINER)
    await settle(app, sandbox)
    assert sandbox.world.status(COMMUNITY, JOINER) == "restricted"
    with pytest.raises(PostingRefused):
        sandbox.user_sends(JOINER, "hello", chat_id=COMMUNITY)

    clock.advance(seconds=10)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    assert f"tg://user?id={JOINER}" in challenge.text
    press = sandbox.press_button(
        JOINER, challenge.message_id, COMMUNITY, challenge.button()["callback_data"]
    )
    await sandbox.wait_for(lambda: sandbox.world.status(COMMUNITY, JOINER) == "member")
    assert (_answer(sandbox, press) or {}).get("text", "").startswith("✅")
    sandbox.user_sends(JOINER, "hello", chat_id=COMMUNITY)  # may write now

    clock.advance(minutes=2)  # welcome.group_batch: the greeting
    await sandbox.wait_for(
        lambda: any("Demo community" in m.text for m in sandbox.sent_messages(COMMUNITY)[1:])
    )
    greeting = sandbox.sent_messages(COMMUNITY)[-1]
    assert f"tg://user?id={JOINER}" in greeting.text
    # /start had sent the gift already: one pack per member, ever
    assert len(sandbox.sent_messages(JOINER)) == gifts
    await settle(app, sandbox)
    assert (challenge.chat_id, challenge.message_id) in {
        (c, m) for c, m, _ in sandbox.world.deleted
    }  # nobody left to answer it


async def test_a_plain_joiner_who_was_never_gifted_gets_the_gift_after_the_pass(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(JOINER, "Jo", language_code="en")
    sandbox.world.dm_allowed.add(JOINER)
    async with app.db.transaction() as session:
        session.add(
            Member(
                user_id=JOINER,
                first_name="Jo",
                language_code="en",
                first_seen_at=clock.now(),
                dm_allowed=True,
            )
        )
    sandbox.user_joins(COMMUNITY, JOINER)
    await settle(app, sandbox)
    assert sandbox.sent_messages(JOINER) == []  # no gift before the pass
    clock.advance(seconds=10)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    sandbox.press_button(
        JOINER, challenge.message_id, COMMUNITY, challenge.button()["callback_data"]
    )
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(JOINER)) == 1)
    assert "Welcome" in sandbox.sent_messages(JOINER)[0].text


async def test_a_plain_joiner_who_does_not_press_is_removed_and_the_challenge_deleted(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _joins(app, sandbox, clock, JOINER)
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    clock.advance(minutes=2, seconds=1)
    await sandbox.wait_for(lambda: sandbox.world.status(COMMUNITY, JOINER) == "left")
    await sandbox.wait_for(
        lambda: (COMMUNITY, challenge.message_id) in {(c, m) for c, m, _ in sandbox.world.deleted}
    )
    assert _calls(sandbox, "banChatMember") and _calls(sandbox, "unbanChatMember")
    clock.advance(minutes=3)
    await settle(app, sandbox)
    # never greeted
    assert not any(
        "Demo community" in m.text for m in sandbox.sent_messages(COMMUNITY) if m is not challenge
    )
    actions = await _actions(app)
    assert (JOINER, "captcha_fail", "timeout") in actions
    assert (JOINER, "remove", "captcha") in actions
    # counted in /kpi (and so in the daily report, which renders the same figures)
    sandbox.user_sends(OPERATOR, "/kpi")
    await settle(app, sandbox)
    kpi = sandbox.sent_messages(OPERATOR)[-1].text
    assert "captcha_fail 1" in kpi and "remove 1" in kpi
    # and each removal is in the moderation log
    sandbox.user_sends(OPERATOR, "/modlog")
    await settle(app, sandbox)
    clock.advance(seconds=2)  # the operator's private chat: a message a second
    await settle(app, sandbox)
    modlog = sandbox.sent_messages(OPERATOR)[-1].text
    assert "remove (captcha)" in modlog and str(JOINER) in modlog


async def test_a_joiner_who_leaves_before_the_time_is_not_removed(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _joins(app, sandbox, clock, JOINER)
    sandbox.user_leaves(COMMUNITY, JOINER)
    await settle(app, sandbox)
    clock.advance(minutes=2, seconds=1)
    await settle(app, sandbox)
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    await sandbox.wait_for(
        lambda: (COMMUNITY, challenge.message_id) in {(c, m) for c, m, _ in sandbox.world.deleted}
    )
    assert not _calls(sandbox, "banChatMember")
    async with app.sessions() as session:
        row = (await session.execute(select(Captcha))).scalar_one()
    assert (row.status, row.outcome) == ("failed", "left")


async def test_another_members_press_changes_nothing(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(OTHER, "Oz", language_code="en")
    sandbox.world.set_status(COMMUNITY, OTHER, "member")
    await _joins(app, sandbox, clock, JOINER)
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    data = challenge.button()["callback_data"]
    press = sandbox.press_button(OTHER, challenge.message_id, COMMUNITY, data)
    forged = sandbox.press_button(JOINER, challenge.message_id, COMMUNITY, "capj:forged-token")
    await settle(app, sandbox)
    assert sandbox.world.status(COMMUNITY, JOINER) == "restricted"
    answer = _answer(sandbox, press) or {}
    assert answer.get("show_alert") and "newcomers" in answer.get("text", "")
    assert (_answer(sandbox, forged) or {}).get("show_alert")
    async with app.sessions() as session:
        row = (await session.execute(select(Captcha))).scalar_one()
    assert row.status == "pending"
    # the newcomer's own press still works
    sandbox.press_button(JOINER, challenge.message_id, COMMUNITY, data)
    await sandbox.wait_for(lambda: sandbox.world.status(COMMUNITY, JOINER) == "member")


async def test_the_timer_survives_a_restart(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    first = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await first.start()
    try:
        await _joins(first, sandbox, clock, JOINER)
        dm = await _challenge_dm(first, sandbox, REQUESTER)
    finally:
        await first.stop()
    challenge = sandbox.sent_messages(COMMUNITY)[0]

    second = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        # the joiner's press after the restart still counts (within the time)
        sandbox.press_button(
            JOINER, challenge.message_id, COMMUNITY, challenge.button()["callback_data"]
        )
        await sandbox.wait_for(lambda: sandbox.world.status(COMMUNITY, JOINER) == "member")
        # the requester never answers: declined at the time set before the restart
        clock.advance(minutes=2, seconds=1)
        await sandbox.wait_for(lambda: sandbox.declined_requests == [(COMMUNITY, REQUESTER)])
        await settle(second, sandbox)
        assert sandbox.approved_requests == [] and len(sandbox.sent_messages(REQUESTER)) == 1
        assert dm.message_id  # the DM went before the restart
    finally:
        await second.stop()


async def test_without_the_right_to_restrict_nothing_breaks(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """Telegram refuses the restriction ("not enough rights to restrict/unrestrict chat
    member"): the joiner can write, is still challenged, and is greeted once they press."""
    sandbox.set_bot_rights(COMMUNITY, can_delete_messages=True, can_invite_users=True)
    await settle(app, sandbox)
    await _joins(app, sandbox, clock, JOINER)
    refused = [c for c in sandbox.calls if c.method == "restrictChatMember" and not c.ok]
    assert refused and "not enough rights to restrict/unrestrict" in (refused[0].description or "")
    sandbox.user_sends(JOINER, "hello", chat_id=COMMUNITY)  # never restricted
    challenge = sandbox.sent_messages(COMMUNITY)[0]
    sandbox.press_button(
        JOINER, challenge.message_id, COMMUNITY, challenge.button()["callback_data"]
    )
    await settle(app, sandbox)
    clock.advance(minutes=2)
    await sandbox.wait_for(
        lambda: any("Demo community" in m.text for m in sandbox.sent_messages(COMMUNITY)[1:])
    )


async def test_a_wave_of_plain_joins_shares_challenges_within_the_group_limit(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """40 joins in 40 s (10 every 10 s): each joiner is mentioned in one challenge, the
    challenges share messages (captcha.group_batch, max_mentions), the group never gets more
    than 20 messages a minute, and nobody who stays silent is left in the group."""
    uid = 20_000
    for _ in range(4):
        for _ in range(10):
            uid += 1
            sandbox.add_user(uid, f"W{uid}")
            sandbox.user_joins(COMMUNITY, uid)
        await settle(app, sandbox, timeout=60)
        clock.advance(seconds=10)
    await settle(app, sandbox, timeout=60)
    challenges = sandbox.sent_messages(COMMUNITY)
    mentioned = [int(m) for c in challenges for m in re.findall(r"tg://user\?id=(\d+)", c.text)]
    assert sorted(mentioned) == list(range(20_001, uid + 1))  # each once
    assert len(challenges) <= 5
    times = [c.at for c in challenges]
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) <= 20
    assert all(sandbox.world.status(COMMUNITY, u) == "restricted" for u in range(20_001, uid + 1))

    clock.advance(minutes=2, seconds=1)
    for _ in range(20):  # 120 calls at 29 a second: a few virtual seconds
        await settle(app, sandbox, timeout=60)
        if all(sandbox.world.status(COMMUNITY, u) == "left" for u in range(20_001, uid + 1)):
            break
        clock.advance(seconds=1)
    await settle(app, sandbox, timeout=60)
    assert all(sandbox.world.status(COMMUNITY, u) == "left" for u in range(20_001, uid + 1))
    deleted = {m for c, m, _ in sandbox.world.deleted if c == COMMUNITY}
    assert {c.message_id for c in challenges} <= deleted


async def test_a_late_challenge_dm_gives_the_requester_their_whole_time(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """Telegram held the DM back (429, retry after 60 s): the requester's two minutes count
    from when it went, not from the request (and never past Telegram's five minutes)."""
    sandbox.add_user(REQUESTER, "Rae", language_code="en")
    sandbox.fail_next("sendMessage", 429, "Too Many Requests: retry after 60", retry_after=60)
    sandbox.join_request(COMMUNITY, REQUESTER)
    await settle(app, sandbox)
    assert sandbox.sent_messages(REQUESTER) == []
    clock.advance(seconds=61)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(REQUESTER)) == 1)
    await settle(app, sandbox)
    clock.advance(seconds=100)  # 2m41s after the request, 1m39s after the DM
    await settle(app, sandbox)
    assert sandbox.declined_requests == []
    clock.advance(seconds=30)
    await sandbox.wait_for(lambda: sandbox.declined_requests == [(COMMUNITY, REQUESTER)])
