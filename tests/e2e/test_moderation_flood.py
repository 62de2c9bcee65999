"""Floods, sticker floods and spam waves end to end: what a flood brings (deleted, then the
flood rule's own steps: a mute), a wave from five accounts deleted to the first copy, short
common replies never a wave, operators and administrators never touched, report mode deleting
nothing and telling the team once per burst."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ChatKind, ModAction, OutboxMessage
from bot.db.models.outbox import OutboxStatus, Purpose
from bot.db.repositories import OutboxRepository
from sandbox import TelegramSandbox
from sandbox.actions import PostingRefused
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TEAM_CHAT, settings_for
from tests.e2e.helpers import settle

FLOODER, CALM, ADMIN = 3201, 3202, 3203
SPAMMERS = (3211, 3212, 3213, 3214, 3215)
FLOOD = """
moderation:
  flood: {messages: 5, seconds: 10}
  stickers: {messages: 3, seconds: 30}
  wave: {accounts: 3, within: 5m}
  actions:
    flood: {mute_after: 1, mute_for: 1h}
    wave: {warn: false}
"""
WAVE_TEXT = "限时福利！加群领取免费课程资料，名额有限先到先得"


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(CONFIG_YAML + FLOOD, "tests/e2e/test_moderation_flood.py")


def _in_group(sandbox: TelegramSandbox, *users: int) -> None:
    for user in users:
        sandbox.add_user(user, f"U{user}", language_code="zh")
        sandbox.world.set_status(COMMUNITY, user, "member")


def _gone(sandbox: TelegramSandbox) -> set[int]:
    return {message_id for chat, message_id, _ in sandbox.world.deleted if chat == COMMUNITY}


def _sends(sandbox: TelegramSandbox, user: int, text: str) -> int:
    return int(sandbox.user_sends(user, text, chat_id=COMMUNITY)["message"]["message_id"])


async def test_a_flood_is_deleted_and_muted_by_its_own_steps(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, FLOODER, CALM, ADMIN)
    sandbox.set_admin(COMMUNITY, ADMIN)
    sandbox.world.set_status(COMMUNITY, OPERATOR, "member")
    calm, flood, moderators = [], [], []
    for n in range(5):
        flood.append(_sends(sandbox, FLOODER, f"刷屏 {n}"))
        moderators.append(_sends(sandbox, OPERATOR, f"通知 {n}"))
        moderators.append(_sends(sandbox, ADMIN, f"提醒 {n}"))
        clock.advance(seconds=1)
    for n in range(4):  # four in ten seconds: under the limit
        calm.append(_sends(sandbox, CALM, f"聊天 {n}"))
        clock.advance(seconds=2)
    await settle(app, sandbox)

    gone = _gone(sandbox)
    assert set(flood) <= gone  # the first four too, once the fifth made it a flood
    assert not (set(calm) | set(moderators)) & gone
    [mute] = [c for c in sandbox.calls if c.method == "restrictChatMember"]
    assert mute.ok and mute.params["user_id"] == FLOODER
    # actions.flood: muted at the first warning, for an hour (the top level says 3 and a day)
    assert mute.params["until_date"] == pytest.approx(clock.timestamp() + 3600, abs=30)
    with pytest.raises(PostingRefused):
        sandbox.user_sends(FLOODER, "还能说话吗", chat_id=COMMUNITY)
    async with app.sessions() as session:
        rows = (await session.execute(select(ModAction.action, ModAction.rule))).all()
    assert sorted(a for a, r in rows if r == "flood" and a in ("warn", "mute")) == ["mute", "warn"]
    assert sum(1 for a, r in rows if (a, r) == ("delete", "flood")) == 5


async def test_a_sticker_flood_has_its_own_limit(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, FLOODER, CALM)
    stickers = []
    for _ in range(3):
        update = sandbox.user_sends_media(FLOODER, "animation", chat_id=COMMUNITY)
        stickers.append(update["message"]["message_id"])
        clock.advance(seconds=5)
    # two stickers and three texts: neither limit is reached
    kept = [sandbox.user_sends_sticker(CALM, chat_id=COMMUNITY)["message"]["message_id"]]
    kept.append(sandbox.user_sends_sticker(CALM, chat_id=COMMUNITY)["message"]["message_id"])
    kept += [_sends(sandbox, CALM, f"哈哈 {n}") for n in range(3)]
    await settle(app, sandbox)
    gone = _gone(sandbox)
    assert set(stickers) <= gone
    assert not set(kept) & gone


async def test_a_spam_wave_from_five_accounts_is_deleted_to_the_first_copy(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, *SPAMMERS, CALM)
    sandbox.world.set_status(COMMUNITY, OPERATOR, "member")
    disguises = [
        WAVE_TEXT,
        WAVE_TEXT.replace("！", "!"),
        " ".join(WAVE_TEXT),
        WAVE_TEXT + " 🎁",
        WAVE_TEXT.replace("，", "。"),
    ]
    copies = []
    for spammer, text in zip(SPAMMERS, disguises, strict=True):
        copies.append(_sends(sandbox, spammer, text))
        clock.advance(seconds=40)
    by_operator = _sends(sandbox, OPERATOR, WAVE_TEXT)
    # a short reply from everyone is no wave
    thanks = [_sends(sandbox, user, "谢谢老师！") for user in (*SPAMMERS[:3], CALM)]
    await settle(app, sandbox)
    clock.advance(seconds=30)
    late = _sends(sandbox, SPAMMERS[0], WAVE_TEXT)  # the wave is still on: deleted as it comes
    await settle(app, sandbox)

    gone = _gone(sandbox)
    assert set(copies) | {late} <= gone
    batched = [c for c in sandbox.calls if c.method == "deleteMessages"]
    assert any(len(c.params["message_ids"]) >= 3 for c in batched)  # the wave's first copies
    assert by_operator not in gone
    assert not set(thanks) & gone
    # actions.wave: warn false: deleted, nobody warned or muted
    assert not any(c.method == "restrictChatMember" for c in sandbox.calls)
    async with app.sessions() as session:
        warns = (
            await session.execute(select(ModAction.id).where(ModAction.action == "warn"))
        ).all()
    assert warns == []
    # far later the same text from one account is just a message
    clock.advance(minutes=10)
    alone = _sends(sandbox, CALM, WAVE_TEXT)
    await settle(app, sandbox)
    assert alone not in _gone(sandbox)


async def test_report_mode_deletes_no_flood_and_tells_the_team_once(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    config = parse_config(
        CONFIG_YAML + FLOOD + "  mode: report\n", "tests/e2e/test_moderation_flood.py"
    )
    _in_group(sandbox, FLOODER, *SPAMMERS)
    async with SopBot(
        settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1
    ) as app:
        for n in range(8):
            _sends(sandbox, FLOODER, f"刷屏 {n}")
        for spammer in SPAMMERS:
            _sends(sandbox, spammer, WAVE_TEXT)
        await settle(app, sandbox)
        assert _gone(sandbox) == set()
        assert not any(c.method == "restrictChatMember" for c in sandbox.calls)
        told = [m.text for m in sandbox.sent_messages(TEAM_CHAT) if "试运行" in m.text]
        assert len(told) == 2  # the flood once, the wave once
        assert any("5 条消息" in t and "flood" in t for t in told)
        assert any("3 个账号" in t and "wave" in t for t in told)


async def test_each_content_rule_brings_its_own_steps(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    steps = """
moderation:
  banned_words: [代理赚钱]
  newcomer_links: 1d
  actions:
    banned_words: {mute_after: 1, mute_for: 2h}
    contacts: {warn: false}
    links: {delete: false}
"""
    config = parse_config(CONFIG_YAML + steps, "tests/e2e/test_moderation_flood.py")
    _in_group(sandbox, FLOODER, CALM)
    async with SopBot(
        settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1
    ) as app:
        sandbox.add_user(ADMIN, "New", language_code="zh")
        sandbox.user_joins(COMMUNITY, ADMIN)  # a newcomer (and no administrator here)
        await settle(app, sandbox)
        word = _sends(sandbox, FLOODER, "代理赚钱 日结")
        contact = _sends(sandbox, CALM, "有事加我微信 abc_1234")
        url = [{"type": "url", "offset": 3, "length": 21}]
        link = sandbox.user_sends(
            ADMIN, "看看 https://a.example/x", chat_id=COMMUNITY, entities=url
        )["message"]["message_id"]
        await settle(app, sandbox)
        gone = _gone(sandbox)
        assert {word, contact} <= gone
        assert link not in gone  # links: delete false
        [mute] = [c for c in sandbox.calls if c.method == "restrictChatMember"]
        assert mute.params["user_id"] == FLOODER  # banned_words: muted at the first warning
        assert mute.params["until_date"] == pytest.approx(clock.timestamp() + 7200, abs=30)
        async with app.sessions() as session:
            warned = {
                (uid, rule)
                for uid, rule in (
                    await session.execute(
                        select(ModAction.user_id, ModAction.rule).where(ModAction.action == "warn")
                    )
                ).all()
            }
        assert warned == {(FLOODER, "banned_word"), (ADMIN, "link")}  # contacts: warn false


async def test_many_deletions_go_first_as_deletemessages_calls_of_at_most_100(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    config = parse_config(CONFIG_YAML, "tests/e2e/test_moderation_flood.py")
    _in_group(sandbox, FLOODER, *SPAMMERS)
    chat, user = sandbox.world.chat(COMMUNITY), sandbox.world.user(FLOODER)
    ids = [sandbox.world.new_message(chat, user, text=f"m{n}")["message_id"] for n in range(250)]
    async with SopBot(
        settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1
    ) as app:
        async with app.db.transaction() as session:
            outbox = OutboxRepository(session)
            for spammer in SPAMMERS:  # bans queued first, in the same call lane
                await outbox.enqueue(
                    key=f"ban:{spammer}",
                    chat_id=COMMUNITY,
                    chat_kind=ChatKind.API,
                    purpose=Purpose.MODERATION,
                    method="banChatMember",
                    payload={"user_id": spammer},
                    now=clock.now(),
                )
            for message_id in ids:
                await outbox.enqueue(
                    key=f"mod:del:{COMMUNITY}:{message_id}",
                    chat_id=COMMUNITY,
                    chat_kind=ChatKind.API,
                    purpose=Purpose.MODERATION,
                    method="deleteMessage",
                    payload={"message_id": message_id},
                    now=clock.now(),
                )
            for n in range(3):  # the group's messages go beside them, in their own lane
                await outbox.enqueue(
                    key=f"hello:{n}",
                    chat_id=COMMUNITY,
                    chat_kind=ChatKind.GROUP,
                    purpose=Purpose.REPLY,
                    payload={"text": f"hello {n}"},
                    now=clock.now(),
                )
        app.delivery.wake()
        await settle(app, sandbox)
        assert _gone(sandbox) == set(ids)
        calls = [c for c in sandbox.calls if c.method in ("deleteMessage", "deleteMessages")]
        assert all(c.ok for c in calls)
        assert all(len(c.params.get("message_ids", [0])) <= 100 for c in calls)
        assert len(calls) <= 10  # a few batches, not 250 calls
        methods = [c.method for c in sandbox.calls]
        assert methods.index("deleteMessages") < methods.index("banChatMember")  # spam first
        assert methods.count("banChatMember") == len(SPAMMERS)
        assert len([m for m in sandbox.sent_messages(COMMUNITY) if "hello" in m.text]) == 3
        async with app.sessions() as session:
            statuses = (
                await session.execute(
                    select(OutboxMessage.status).where(OutboxMessage.method == "deleteMessage")
                )
            ).scalars()
            assert set(statuses) == {OutboxStatus.SENT}
