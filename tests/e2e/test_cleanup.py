"""``/cleanup`` end to end (issue 13): the preview counts the members silent for 90 days (not
the recently active, not operators, not administrators, not the bot); the confirm removes them
(ban, then unban: they may rejoin) at a pace within the sandbox's limits; a non-operator is
refused; a forged, stale or another operator's press does nothing; bad arguments get the usage
line; ``dm`` sends a last word first; the operator is told when it is done."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import ActivityDaily, AuditEntry, Member, Membership, ModAction
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR
from tests.e2e.helpers import settle

SECOND_OPERATOR = 1002
ADMIN, ACTIVE, NEWCOMER, STRANGER = 7001, 7002, 7003, 7004
SILENT = list(range(7101, 7106))


@pytest.fixture
def config() -> CommunityConfig:
    yaml = CONFIG_YAML.replace(
        f"operators: [{OPERATOR}]", f"operators: [{OPERATOR}, {SECOND_OPERATOR}]"
    )
    return parse_config(yaml, "tests/e2e/test_cleanup.py")


async def _members(
    app: SopBot,
    sandbox: TelegramSandbox,
    users: list[int],
    *,
    joined_days_ago: int,
    spoke_days_ago: int | None = None,
    reachable: bool = False,
) -> None:
    now = app.clock.now()
    async with app.db.transaction() as session:
        for uid in users:
            sandbox.add_user(uid, f"M<{uid}>", language_code="en")
            sandbox.world.set_status(COMMUNITY, uid, "member")
            if reachable:
                sandbox.world.dm_allowed.add(uid)
            session.add(
                Member(
                    user_id=uid,
                    first_name=f"M<{uid}>",
                    language_code="en",
                    first_seen_at=now - timedelta(days=joined_days_ago),
                    dm_allowed=reachable,
                )
            )
            await session.flush()
            session.add(
                Membership(
                    chat_id=COMMUNITY,
                    user_id=uid,
                    joined_at=now - timedelta(days=joined_days_ago),
                )
            )
            if spoke_days_ago is not None:
                day: date = (
                    (now - timedelta(days=spoke_days_ago)).astimezone(app.config.current.tz).date()
                )
                session.add(ActivityDaily(chat_id=COMMUNITY, user_id=uid, day=day, messages=3))


def _replies(sandbox: TelegramSandbox, chat: int = OPERATOR) -> list[SentMessage]:
    return sandbox.sent_messages(chat)


def _buttons(message: SentMessage) -> list[str]:
    return [
        b["callback_data"] for row in (message.reply_markup or {})["inline_keyboard"] for b in row
    ]


def _answer(sandbox: TelegramSandbox, update: dict[str, Any]) -> dict[str, Any] | None:
    query = sandbox.world.callback_queries[update["callback_query"]["id"]]
    answer: dict[str, Any] | None = query.get("answer")
    return answer


def _calls(sandbox: TelegramSandbox, method: str) -> list[dict[str, Any]]:
    return [c.params for c in sandbox.calls if c.method == method and c.ok]


async def _preview(
    app: SopBot, sandbox: TelegramSandbox, text: str, who: int = OPERATOR
) -> SentMessage:
    before = len(_replies(sandbox, who))
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(seconds=2)  # a private chat's one message a second
    sandbox.user_sends(who, text)
    await settle(app, sandbox)
    replies = _replies(sandbox, who)
    assert len(replies) == before + 1, (text, replies[before - 1 :])
    return replies[-1]


async def _run_out(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, seconds: int, step: int = 5
) -> None:
    for _ in range(0, seconds, step):
        clock.advance(seconds=step)
        await settle(app, sandbox)


async def _removed(app: SopBot) -> list[int]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(ModAction.user_id)
            .where(ModAction.action == "cleanup")
            .order_by(ModAction.user_id)
        )
        return [int(u) for u in rows.scalars()]


async def _setup_community(app: SopBot, sandbox: TelegramSandbox) -> None:
    await _members(app, sandbox, SILENT[:3], joined_days_ago=200, spoke_days_ago=120)
    await _members(app, sandbox, SILENT[3:], joined_days_ago=100)  # never spoke
    await _members(app, sandbox, [ACTIVE], joined_days_ago=200, spoke_days_ago=10)
    await _members(app, sandbox, [NEWCOMER], joined_days_ago=20)
    await _members(app, sandbox, [ADMIN], joined_days_ago=300)
    await _members(app, sandbox, [OPERATOR], joined_days_ago=300)
    sandbox.set_admin(COMMUNITY, ADMIN)


async def test_preview_counts_the_silent_and_confirm_removes_them(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _setup_community(app, sandbox)
    preview = await _preview(app, sandbox, "/cleanup silent 90d")
    assert "<b>5</b>" in preview.text, preview.text
    assert "Demo community" in preview.text
    assert "M&lt;7101&gt;" in preview.text  # names escaped
    for spared in (ACTIVE, NEWCOMER, ADMIN, OPERATOR):
        assert str(spared) not in preview.text
    go, cancel = _buttons(preview)
    assert go.startswith("cl:go:") and cancel.startswith("cl:no:")

    update = sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, go)
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 15)
    assert _answer(sandbox, update) is not None
    card = sandbox.get_message(OPERATOR, preview.message_id)
    assert card is not None and not card.reply_markup  # the buttons are gone once pressed
    banned = [p["user_id"] for p in _calls(sandbox, "banChatMember")]
    unbanned = [p for p in _calls(sandbox, "unbanChatMember")]
    assert sorted(banned) == SILENT
    assert sorted(p["user_id"] for p in unbanned) == SILENT
    assert all(p.get("only_if_banned") is True for p in unbanned)
    for uid in SILENT:
        assert sandbox.world.status(COMMUNITY, uid) == "left"
    for kept in (ACTIVE, NEWCOMER, ADMIN, OPERATOR):
        assert sandbox.world.status(COMMUNITY, kept) in ("member", "administrator")
    assert await _removed(app) == SILENT
    async with app.sessions() as session:
        audited = (
            await session.execute(select(AuditEntry.args).where(AuditEntry.command == "cleanup"))
        ).scalars()
        assert sum(1 for a in audited if a.startswith("remove ")) == 5
    done = _replies(sandbox)[-1]
    assert "5 removed, 0 failed" in done.text, done.text
    # they may come back
    sandbox.user_joins(COMMUNITY, SILENT[0])
    await settle(app, sandbox)
    assert sandbox.world.status(COMMUNITY, SILENT[0]) == "member"
    # a second press does nothing more
    again = sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, go)
    await settle(app, sandbox)
    assert len(_calls(sandbox, "banChatMember")) == 5
    assert _answer(sandbox, again) is not None
    # /kpi counts them
    sandbox.user_sends(OPERATOR, "/kpi")
    await settle(app, sandbox)
    assert "cleanup 5" in _replies(sandbox)[-1].text


async def test_an_admin_promoted_after_the_preview_fails_with_telegrams_reason(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _setup_community(app, sandbox)
    preview = await _preview(app, sandbox, "/cleanup silent 90d")
    sandbox.set_admin(COMMUNITY, SILENT[0])
    sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, _buttons(preview)[0])
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 15)
    done = _replies(sandbox)[-1].text
    assert "4 removed, 1 failed" in done, done
    assert "user is an administrator of the chat" in done
    assert sandbox.world.status(COMMUNITY, SILENT[0]) == "administrator"


async def test_forged_stale_and_other_operators_presses_do_nothing(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _setup_community(app, sandbox)
    sandbox.add_user(SECOND_OPERATOR, "Second", language_code="en")
    preview = await _preview(app, sandbox, "/cleanup silent 90d")
    go = _buttons(preview)[0]
    _, _, cleanup_id, token = go.split(":")
    forged = f"cl:go:{cleanup_id}:{'0' * 16 if token != '0' * 16 else '1' * 16}"
    sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, forged)
    sandbox.press_button(ACTIVE, preview.message_id, OPERATOR, go)  # not an operator
    await settle(app, sandbox)
    # another operator pressing the same data (copied into their own chat)
    other = await _preview(app, sandbox, "/cleanup silent 120d", who=SECOND_OPERATOR)
    sandbox.press_button(SECOND_OPERATOR, other.message_id, SECOND_OPERATOR, go)
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 10)
    assert _calls(sandbox, "banChatMember") == []
    # out of date after 15 minutes
    clock.advance(minutes=16)
    stale = sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, go)
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 10)
    assert _calls(sandbox, "banChatMember") == []
    assert _answer(sandbox, stale) is not None
    # a newer preview replaces the older one: the older button does nothing
    first = await _preview(app, sandbox, "/cleanup silent 90d")
    second = await _preview(app, sandbox, "/cleanup silent 100d")
    sandbox.press_button(OPERATOR, first.message_id, OPERATOR, _buttons(first)[0])
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 10)
    assert _calls(sandbox, "banChatMember") == []
    sandbox.press_button(OPERATOR, second.message_id, OPERATOR, _buttons(second)[1])  # cancel
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 10)
    assert _calls(sandbox, "banChatMember") == []


async def test_non_operators_are_refused_and_bad_arguments_get_the_usage_line(
    app: SopBot, sandbox: TelegramSandbox
) -> None:
    await _setup_community(app, sandbox)
    sandbox.add_user(STRANGER, "Stranger", language_code="en")
    sandbox.user_sends(STRANGER, "/cleanup silent 90d")
    await settle(app, sandbox)
    refusal = _replies(sandbox, STRANGER)
    assert len(refusal) == 1 and "operations team only" in refusal[0].text.lower()
    assert not refusal[0].reply_markup
    for bad in (
        "/cleanup",
        "/cleanup silent",
        "/cleanup silent soon",
        "/cleanup silent 2h",
        "/cleanup loud 90d",
        "/cleanup silent 90d dm -100999",
        "/cleanup silent 90d please",
    ):
        reply = await _preview(app, sandbox, bad)
        assert "/cleanup silent DURATION" in reply.text, (bad, reply.text)
        assert "\n" not in reply.text.strip()
        assert not reply.reply_markup
    unknown = await _preview(app, sandbox, "/cleanup segment nosuch")
    assert "nosuch" in unknown.text and not unknown.reply_markup


async def test_a_segment_and_the_last_word_by_dm(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _members(app, sandbox, [7201, 7202], joined_days_ago=200, reachable=True)
    await _members(app, sandbox, [7203], joined_days_ago=200)
    await _members(app, sandbox, [ACTIVE], joined_days_ago=200, spoke_days_ago=1, reachable=True)
    preview = await _preview(app, sandbox, "/cleanup segment reachable dm")
    # reachable members of the community: 7201, 7202 and the active one
    assert "<b>3</b>" in preview.text, preview.text
    sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, _buttons(preview)[0])
    await settle(app, sandbox)
    assert [m.chat_id for m in sandbox.sent_messages() if m.chat_id in (7201, 7202, ACTIVE)]
    assert _calls(sandbox, "banChatMember") == []  # the last words go first
    await _run_out(app, sandbox, clock, 150)
    assert sorted(p["user_id"] for p in _calls(sandbox, "banChatMember")) == [ACTIVE, 7201, 7202]
    farewell = sandbox.sent_messages(7201)[-1]
    assert "join again any time" in farewell.text
    assert sandbox.sent_messages(7203) == []


async def test_sixty_members_removed_at_the_pace_within_the_limits(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """Sixty removals (each a ban, an unban and the chat_member updates they bring): one member
    a second, never over the global limit, each once."""
    many = list(range(8001, 8061))
    await _members(app, sandbox, many, joined_days_ago=365)
    preview = await _preview(app, sandbox, "/cleanup silent 90d")
    assert "<b>60</b>" in preview.text
    assert preview.text.count("M&lt;") == 10  # ten names at most
    sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, _buttons(preview)[0])
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 70, step=10)
    assert len(_calls(sandbox, "banChatMember")) == 60
    assert all(sandbox.world.status(COMMUNITY, uid) == "left" for uid in many)
    assert sandbox.count_errors(429) == 0 and sandbox.early_retries == 0
    assert "60 removed, 0 failed" in _replies(sandbox)[-1].text
    stamps = sorted(c.at for c in sandbox.calls if c.method in ("banChatMember", "unbanChatMember"))
    busiest = max(sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps))
    assert busiest <= sandbox.limits.global_per_second


async def test_who_spoke_or_left_since_the_preview_is_spared(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _setup_community(app, sandbox)
    preview = await _preview(app, sandbox, "/cleanup silent 90d")
    assert "<b>5</b>" in preview.text
    sandbox.user_sends(SILENT[0], "我还在！", chat_id=COMMUNITY)
    sandbox.user_leaves(COMMUNITY, SILENT[1])
    await settle(app, sandbox)
    sandbox.press_button(OPERATOR, preview.message_id, OPERATOR, _buttons(preview)[0])
    await settle(app, sandbox)
    await _run_out(app, sandbox, clock, 15)
    assert sorted(p["user_id"] for p in _calls(sandbox, "banChatMember")) == SILENT[2:]
    assert sandbox.world.status(COMMUNITY, SILENT[0]) == "member"
    assert "3 removed, 0 failed" in _replies(sandbox)[-1].text
