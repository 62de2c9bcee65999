"""Privacy end to end (the contract's "Privacy", issue 15): the notice on the first DM, /mydata
as a JSON document of one member and nobody else, /forget with its one-time button, /member
showing "erased", nothing more sent until /start, /stop holding marketing but not desk
answers, consent holding the gift pack until "Agree", the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import (
    AuditEntry,
    Coupon,
    Member,
    MemberTag,
    ModAction,
    OutboxMessage,
    PrivacyEvent,
    PrivacyState,
)
from bot.db.models.tags import TagEvent
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TEAM_CHAT
from tests.e2e.desk_support import copies_of, relay_of, write
from tests.e2e.helpers import copies, draft, run_clock, seed, settle, until
from tests.e2e.test_tags import TAGS_YAML

ANN, BOB = 8101, 8102

QUIET = """
sop:
  quiet_hours: "off"
templates: null
"""


@pytest.fixture
def config(request: pytest.FixtureRequest) -> CommunityConfig:
    extra = getattr(request, "param", "")
    if extra == "winback":  # the win-back room's own config (tests/e2e/test_tags.py)
        return parse_config(TAGS_YAML, "tests/e2e/test_tags.py")
    return parse_config(CONFIG_YAML + QUIET + extra, "tests/e2e/test_privacy.py")


@pytest.fixture
def people(sandbox: TelegramSandbox) -> tuple[int, int]:
    sandbox.add_user(ANN, "Ann", username="ann_s", language_code="en")
    sandbox.add_user(BOB, "Bob", username="bob_b", language_code="en")
    sandbox.world.dm_allowed.update({ANN, BOB})
    return ANN, BOB


async def _say(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, text: str
) -> list[SentMessage]:
    """``user`` sends ``text`` in private; returns what the bot sent them after it."""
    before = len(sandbox.sent_messages(user))
    clock.advance(seconds=2)
    sandbox.user_sends(user, text)
    await run_clock(app, sandbox, clock, 3)
    return sandbox.sent_messages(user)[before:]


async def _press(
    app: SopBot, sandbox: TelegramSandbox, who: int, message: SentMessage, data: str
) -> str:
    update = sandbox.press_button(who, message.message_id, message.chat_id, data)
    query_id = update["callback_query"]["id"]
    await sandbox.wait_for(lambda: sandbox.world.callback_queries[query_id]["answered"])
    await settle(app, sandbox)
    return str(sandbox.world.callback_queries[query_id]["answer"].get("text"))


async def _pseudonymous(session: AsyncSession) -> list[Member]:
    """The members keyed by a pseudonym (erased or pseudonymised)."""
    rows = await session.execute(select(Member).where(Member.user_id < 0))
    return list(rows.scalars())


def _data(message: SentMessage, prefix: str) -> str:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if str(button.get("callback_data", "")).startswith(prefix):
                return str(button["callback_data"])
    raise AssertionError(f"no {prefix} button in {message.reply_markup}")


async def test_the_first_dm_carries_the_notice_once_and_its_version_is_kept(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    [first, *_] = await _say(app, sandbox, clock, ANN, "/start")
    assert "/privacy" in first.text
    later = await _say(app, sandbox, clock, ANN, "/start")
    assert later and all("/privacy" not in m.text for m in later)
    async with app.sessions() as session:
        state = await session.get(PrivacyState, ANN)
        assert state is not None and state.notice_version == 1
        assert state.notice_shown_at is not None
        events = (await session.execute(select(PrivacyEvent.event))).scalars().all()
    assert list(events) == ["notice"]
    [info] = await _say(app, sandbox, clock, ANN, "/privacy")
    assert "/mydata" in info.text and "/forget" in info.text and "/stop" in info.text


async def test_mydata_is_a_json_document_of_that_member_and_nobody_else(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    await _say(app, sandbox, clock, BOB, "/start")
    async with app.db.transaction() as session:
        now = clock.now()
        for uid, tag in ((ANN, "interest:tea"), (BOB, "interest:bob-only")):
            session.add(MemberTag(user_id=uid, tag=tag, added_at=now, added_by="test"))
            session.add(TagEvent(user_id=uid, tag=tag, action="added", at=now, by="test"))
    sent = len(sandbox.sent_files(ANN))
    clock.advance(seconds=2)
    asked = sandbox.user_sends(ANN, "/mydata")
    await run_clock(app, sandbox, clock, 3)
    [document] = sandbox.sent_files(ANN)[sent:]
    assert document.kind == "document" and document.at - asked["message"]["date"] <= 30
    assert document.filename is not None and document.filename.endswith(".json")
    assert document.data is not None
    data = json.loads(document.data)
    assert data["member"][0]["user_id"] == ANN and data["member"][0]["first_name"] == "Ann"
    assert [t["tag"] for t in data["tags"]] == ["interest:tea"]
    assert data["tag_history"][0]["tag"] == "interest:tea"
    assert [c["campaign"] for c in data["coupons"]] == ["newcomer"]  # the gift pack's
    assert {"notice"} <= {e["event"] for e in data["consent_log"]}
    raw = document.data.decode()
    assert str(BOB) not in raw and "Bob" not in raw and "bob" not in raw
    async with app.sessions() as session:
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.command == "mydata")))
            .scalars()
            .all()
        )
    assert [a.user_id for a in audit] == [ANN]


async def test_forget_erases_and_nothing_is_sent_until_start(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    await _say(app, sandbox, clock, BOB, "/start")
    [confirm] = await _say(app, sandbox, clock, ANN, "/forget")
    data = _data(confirm, "pv:forget:")
    # forwarded to someone else: their press does nothing
    assert "expired" in await _press(app, sandbox, BOB, confirm, data)
    assert "Erased" in await _press(app, sandbox, ANN, confirm, data)
    assert "expired" in await _press(app, sandbox, ANN, confirm, data)  # pressed twice
    await run_clock(app, sandbox, clock, 3)
    assert "erased" in sandbox.sent_messages(ANN)[-1].text
    async with app.sessions() as session:
        assert await session.get(Member, ANN) is None  # her rows carry a pseudonym now
        [ann] = await _pseudonymous(session)
        assert ann.erased_at is not None
        identity = (ann.first_name, ann.username, ann.language_code, ann.source)
        assert identity == ("", None, None, None)
        coupons = (
            (await session.execute(select(Coupon).where(Coupon.user_id == ann.user_id)))
            .scalars()
            .all()
        )
        assert coupons and all(c.expires_at <= clock.now() for c in coupons)  # unused: void
        outbox = (
            (
                await session.execute(
                    select(OutboxMessage).where(OutboxMessage.chat_id.in_((ANN, ann.user_id)))
                )
            )
            .scalars()
            .all()
        )
        assert outbox and all(row.chat_id == ann.user_id for row in outbox)
        assert all("Ann" not in str(row.payload) for row in outbox)
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.command == "forget")))
            .scalars()
            .all()
        )
    assert len(audit) == 1 and audit[0].user_id == 0  # logged, without whom
    # the operator's /member shows "erased" and none of the identity
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, f"/member {ANN}")
    await run_clock(app, sandbox, clock, 3)
    [profile] = sandbox.sent_messages(OPERATOR)[before:]
    assert "erased" in profile.text
    assert "Ann" not in profile.text and "ann_s" not in profile.text
    # a later broadcast skips her; Bob gets it
    told = len(sandbox.sent_messages(ANN))
    preview = await draft(app, sandbox, "/broadcast all")
    assert "Audience: <b>1</b>" in preview.text
    await _press(app, sandbox, OPERATOR, preview, _data(preview, "bc:send:"))
    await run_clock(app, sandbox, clock, 10)
    assert copies(sandbox, [BOB]) and not sandbox.sent_messages(ANN)[told:]
    # Telegram shows her name again in the community: it is not recorded
    sandbox.user_sends(ANN, "hello all", chat_id=COMMUNITY)
    await run_clock(app, sandbox, clock, 2)
    async with app.sessions() as session:
        seen = await session.get(Member, ANN)  # a blank, erased row under her id
        assert seen is not None and seen.first_name == "" and seen.username is None
        assert seen.erased_at is not None
    # /start anew: she is back
    back = await _say(app, sandbox, clock, ANN, "/start")
    assert back
    async with app.sessions() as session:
        again = await session.get(Member, ANN)
        assert again is not None and again.erased_at is None and again.first_name == "Ann"


async def test_an_operator_erases_a_member_by_id(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, f"/member {ANN} forget")
    await run_clock(app, sandbox, clock, 3)
    [answer] = sandbox.sent_messages(OPERATOR)[before:]
    assert "erased" in answer.text
    async with app.sessions() as session:
        assert await session.get(Member, ANN) is None
        [ann] = await _pseudonymous(session)
        assert ann.erased_at is not None and ann.first_name == ""
        [entry] = (
            (await session.execute(select(AuditEntry).where(AuditEntry.command == "member")))
            .scalars()
            .all()
        )
    assert entry.args == f"{ann.user_id} forget"  # the command names the pseudonym too
    # /member by her real id: "erased" (the suppression list knows it), nothing of her
    sandbox.user_sends(OPERATOR, f"/member {ANN}")
    await run_clock(app, sandbox, clock, 3)
    assert "erased" in sandbox.sent_messages(OPERATOR)[-1].text
    # a member cannot: /member is a team command
    refused = await _say(app, sandbox, clock, BOB, f"/member {ANN} forget")
    assert refused and "erased" not in refused[0].text


async def test_stop_skips_marketing_but_a_desk_answer_still_arrives(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    await _say(app, sandbox, clock, BOB, "/start")
    [stopped] = await _say(app, sandbox, clock, ANN, "/stop")
    assert "/start" in stopped.text
    told = len(sandbox.sent_messages(ANN))
    preview = await draft(app, sandbox, "/broadcast all")
    assert "Audience: <b>1</b>" in preview.text
    await _press(app, sandbox, OPERATOR, preview, _data(preview, "bc:send:"))
    await run_clock(app, sandbox, clock, 10)
    assert copies(sandbox, [BOB]) and not sandbox.sent_messages(ANN)[told:]
    # a question still reaches the team, and the answer still reaches her
    message = await write(app, sandbox, clock, ANN, "where is my parcel?")
    relay = relay_of(sandbox, ANN, message["message_id"])
    clock.advance(seconds=5)
    sandbox.user_sends(OPERATOR, "On its way.", chat_id=TEAM_CHAT, reply_to_message_id=relay)
    await settle(app, sandbox)
    assert len(copies_of(sandbox, TEAM_CHAT, ANN)) == 1
    # /start (with a payload) takes her back in
    await _say(app, sandbox, clock, ANN, "/start src_again")
    await draft(app, sandbox, "/broadcast all", text="Second sale")
    await run_clock(app, sandbox, clock, 3)
    [second] = [m for m in sandbox.sent_messages(OPERATOR) if "Broadcast #2" in m.text]
    assert "Audience: <b>2</b>" in second.text


async def test_stop_from_a_stranger_is_answered_and_kept(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    [answer] = await _say(app, sandbox, clock, ANN, "/stop")
    assert "/start" in answer.text
    async with app.sessions() as session:
        state = await session.get(PrivacyState, ANN)
    assert state is not None and state.opted_out_at is not None


CONSENT = """
privacy:
  require_consent: true
"""


@pytest.mark.parametrize("config", [CONSENT], indirect=True)
async def test_consent_holds_the_gift_until_agree(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    replies = await _say(app, sandbox, clock, ANN, "/start")
    await run_clock(app, sandbox, clock, 10)
    texts = [m.text for m in sandbox.sent_messages(ANN)]
    assert not any("newcomer gift" in t for t in texts), texts  # the gift waits
    asking = next(m for m in replies if "/privacy" in m.text)
    data = _data(asking, "pv:agree:")
    assert "not yours" in await _press(app, sandbox, BOB, asking, data)
    await run_clock(app, sandbox, clock, 5)
    assert len(sandbox.sent_messages(ANN)) == len(texts)
    assert "Thank" in await _press(app, sandbox, ANN, asking, data)
    await run_clock(app, sandbox, clock, 5)
    gift = sandbox.sent_messages(ANN)[len(texts) :]
    assert [m for m in gift if "newcomer gift" in m.text], "the held gift went on Agree"
    async with app.sessions() as session:
        state = await session.get(PrivacyState, ANN)
        assert state is not None and state.consented_at is not None
        events = (await session.execute(select(PrivacyEvent.event))).scalars().all()
    assert "consent" in events


RETENTION = """
privacy:
  retention: 30d
"""


@pytest.mark.parametrize("config", [RETENTION], indirect=True)
async def test_retention_pseudonymises_members_silent_longer(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    old = await seed(app, sandbox, [8201, 8202])
    async with app.db.transaction() as session:
        for uid in old:
            member = await session.get(Member, uid)
            assert member is not None
            member.first_seen_at = member.last_seen_at = clock.now() - timedelta(days=40)
    await _say(app, sandbox, clock, ANN, "/start")
    # the pass ran at start, then runs a day later; the next morning's (09:00) report counts it
    until = clock.now() + timedelta(days=2, hours=1)
    while clock.now() < until:
        clock.advance(min(timedelta(hours=4), until - clock.now()))
        await settle(app, sandbox)
    async with app.sessions() as session:
        assert [await session.get(Member, uid) for uid in old] == [None, None]
        gone = await _pseudonymous(session)
        ann = await session.get(Member, ANN)
        events = (await session.execute(select(PrivacyEvent.event))).scalars().all()
    assert len(gone) == 2 and all(m.erased_at is not None and m.first_name == "" for m in gone)
    assert ann is not None and ann.erased_at is None and ann.first_name == "Ann"
    reports = [m.text for m in sandbox.sent_messages(TEAM_CHAT) if "匿名化" in m.text]
    assert reports and "匿名化 2 人" in reports[0], reports
    assert list(events).count("pseudonymised") == 2


async def test_mydata_with_ten_thousand_tag_events_is_complete(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    async with app.db.transaction() as session:
        now = clock.now()
        session.add_all(
            TagEvent(user_id=ANN, tag=f"t{i % 50}", action="added", at=now, by="test")
            for i in range(10_000)
        )
    clock.advance(seconds=2)
    sandbox.user_sends(ANN, "/mydata")
    await run_clock(app, sandbox, clock, 3)
    [document] = sandbox.sent_files(ANN)
    assert document.data is not None and len(document.data) < 5_000_000
    history = json.loads(document.data)["tag_history"]
    # every one of the 10,000 (the loops may have added Ann's own events meanwhile: a tier)
    assert sum(1 for event in history if event["by"] == "test") == 10_000


async def test_a_forget_button_from_before_a_start_does_nothing(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, ANN, "/start")
    [confirm] = await _say(app, sandbox, clock, ANN, "/forget")
    await _say(app, sandbox, clock, ANN, "/start")
    assert "expired" in await _press(app, sandbox, ANN, confirm, _data(confirm, "pv:forget:"))
    async with app.sessions() as session:
        ann = await session.get(Member, ANN)
    assert ann is not None and ann.erased_at is None and ann.first_name == "Ann"


REVIEW = """
privacy:
  review_block: ["刷单"]
"""


async def _card_for(app: SopBot, sandbox: TelegramSandbox, text: str) -> SentMessage:
    """The operator drafts a broadcast of ``text`` to all; returns its new card."""
    cards = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, text)
    source = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, "/broadcast all", reply_to_message_id=source)

    def new() -> list[SentMessage]:
        return [m for m in sandbox.sent_messages(OPERATOR)[cards:] if "bc:" in str(m.reply_markup)]

    await until(app, sandbox, lambda: bool(new()))
    return new()[-1]


@pytest.mark.parametrize("config", [REVIEW], indirect=True)
async def test_the_copy_review_warns_then_asks_twice_and_blocks_block_words(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, BOB, "/start")
    # everyday words: no finding
    plain = await _card_for(app, sandbox, "最近第一次上新，欢迎来看")
    assert "Copy review" not in plain.text and "bc:send:" in str(plain.reply_markup)
    await _press(app, sandbox, OPERATOR, plain, _data(plain, "bc:cancel:"))
    # absolute terms: listed, and Send asks a second time
    warned = await _card_for(app, sandbox, "全网最低价，国家级品质！")
    assert "Copy review" in warned.text and "最低价" in warned.text and "国家级" in warned.text
    told = len(sandbox.sent_messages(BOB))
    first = await _press(app, sandbox, OPERATOR, warned, _data(warned, "bc:send:"))
    await run_clock(app, sandbox, clock, 5)
    assert "again" in first and len(sandbox.sent_messages(BOB)) == told
    await _press(app, sandbox, OPERATOR, warned, _data(warned, "bc:send:"))
    await run_clock(app, sandbox, clock, 5)
    assert [m.text for m in sandbox.sent_messages(BOB)[told:]] == ["全网最低价，国家级品质！"]
    # a block word: no Send button
    blocked = await _card_for(app, sandbox, "兼职刷单日结")
    assert "刷单" in blocked.text and "bc:send:" not in str(blocked.reply_markup)
    forged = _data(blocked, "bc:cancel:").replace("cancel", "send")
    assert "cannot be sent" in await _press(app, sandbox, OPERATOR, blocked, forged)


@pytest.mark.parametrize("config", ["winback"], indirect=True)
async def test_stop_skips_win_back_and_issues_no_coupon_for_it(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    for uid in (ANN, BOB):
        sandbox.user_sends(uid, "/start")
        sandbox.user_joins(COMMUNITY, uid)
        await settle(app, sandbox)
        sandbox.user_sends(uid, "hi all", chat_id=COMMUNITY)
        await settle(app, sandbox)
    await _say(app, sandbox, clock, ANN, "/stop")
    for _ in range(8 * 2 + 2):  # day 9, 08:00: both silent over a week
        clock.advance(hours=12)
        await settle(app, sandbox)
    assert [m for m in sandbox.sent_messages(BOB) if "missed you" in m.text]
    assert not [m for m in sandbox.sent_messages(ANN) if "missed you" in m.text]
    async with app.sessions() as session:
        campaigns = (
            (await session.execute(select(Coupon.campaign).where(Coupon.user_id == ANN)))
            .scalars()
            .all()
        )
    assert "comeback" not in campaigns


PROMO = """
schedules:
  - id: promo
    cron: "0 12 * * *"
    template: guide
    promotional: true
"""


@pytest.mark.parametrize("config", [PROMO], indirect=True)
async def test_promotions_carry_the_ad_label(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, people: tuple[int, int]
) -> None:
    await _say(app, sandbox, clock, BOB, "/start")
    told = len(sandbox.sent_messages(BOB))
    cards = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, "/broadcast all ad template guide")
    await until(
        app,
        sandbox,
        lambda: any(
            "bc:send:" in str(m.reply_markup) for m in sandbox.sent_messages(OPERATOR)[cards:]
        ),
    )
    [preview, card] = sandbox.sent_messages(OPERATOR)[cards:][-2:]
    assert preview.text.startswith("<b>[Ad]</b>") and "promotion" in card.text
    await _press(app, sandbox, OPERATOR, card, _data(card, "bc:send:"))
    await run_clock(app, sandbox, clock, 5)
    [copy] = sandbox.sent_messages(BOB)[told:]
    assert copy.text.startswith("<b>[Ad]</b>")
    # a promotional schedule's post in the community (default locale zh)
    for _ in range(8):  # 09:00 → 12:00 and past
        clock.advance(minutes=30)
        await settle(app, sandbox)
    [post] = [m for m in sandbox.sent_messages(COMMUNITY) if "【广告】" in m.text]
    assert post.text.startswith("<b>【广告】</b>")


LOG_RETENTION = """
privacy:
  audit_retention: 90d
  moderation_log_retention: 60d
"""


@pytest.mark.parametrize("config", [LOG_RETENTION], indirect=True)
async def test_the_audit_and_moderation_logs_are_kept_for_their_own_periods(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await settle(app, sandbox)  # the pass at start done (else the next is a day after it ends)
    now = clock.now()
    async with app.db.transaction() as session:
        for days, update_id in ((100, -1), (10, -2)):
            session.add(
                AuditEntry(
                    update_id=update_id,
                    at=now - timedelta(days=days),
                    user_id=OPERATOR,
                    user_name="Olga",
                    chat_id=OPERATOR,
                    chat_kind="private",
                    command="kpi",
                    args="",
                    result="ok",
                )
            )
        for days in (70, 5):
            session.add(
                ModAction(
                    chat_id=COMMUNITY,
                    user_id=8301,
                    message_id=None,
                    action="warn",
                    rule="banned_word",
                    by_user_id=None,
                    at=now - timedelta(days=days),
                    until=None,
                )
            )
    clock.advance(days=1, minutes=1)  # the daily pass (it ran at start too, before the rows)
    await settle(app, sandbox)
    async with app.sessions() as session:
        audit = (await session.execute(select(AuditEntry.update_id))).scalars().all()
        actions = (await session.execute(select(ModAction.at))).scalars().all()
    assert list(audit) == [-2]  # 100 days old: gone; 10 days: kept
    assert len(actions) == 1 and now - actions[0] == timedelta(days=5)
