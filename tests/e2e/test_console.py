"""/audit and /member end to end, and the audit log under every team command: operators and
everyone else, usage errors, refusals and a command that fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import AuditEntry, ChatKind, IssuedBy, Member, MemberTag
from bot.db.repositories import TagRepository
from bot.db.repositories.audit import AuditRepository
from bot.services.commerce.coupons import CouponService
from bot.services.records.member_view import MemberViewService
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT
from tests.e2e.helpers import settle

STRANGER = 7001


async def _ask(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    user: int,
    text: str,
    chat: int | None = None,
) -> list[str]:
    """Sends ``text``; returns the texts of the messages the bot answered with (the virtual
    clock moves on first: Telegram allows one message a second to a private chat; the last
    send has settled before it moves, see tests/e2e/helpers.py)."""
    await settle(app, sandbox)
    clock.advance(seconds=2)
    where = chat or user
    before = len(sandbox.sent_messages(where))
    sandbox.user_sends(user, text, chat_id=chat)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(where)) > before)
    return [m.text for m in sandbox.sent_messages(where)[before:]]


async def _audit(app: SopBot) -> list[AuditEntry]:
    async with app.sessions() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def test_every_team_command_is_logged_with_its_result(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(STRANGER, "Mallory", username="mallory")
    sandbox.user_sends(STRANGER, "/start")
    await settle(app, sandbox)
    refused = await _ask(app, sandbox, clock, STRANGER, "/kpi")
    assert "operations team only" in refused[0]
    await _ask(app, sandbox, clock, STRANGER, "/audit")  # no log shown to him
    assert "Audit" not in sandbox.sent_messages(STRANGER)[-1].text
    await _ask(app, sandbox, clock, OPERATOR, "/member")  # usage
    await _ask(app, sandbox, clock, OPERATOR, "/export sideways")  # unknown subcommand
    await _ask(app, sandbox, clock, OPERATOR, "/member 424242")  # unknown member: still ok
    await _ask(app, sandbox, clock, OPERATOR, "/kpi", chat=COMMUNITY)  # operator in a community
    await settle(app, sandbox)

    entries = await _audit(app)
    assert [(e.user_id, e.command, e.args, e.result, e.chat_kind) for e in entries] == [
        (STRANGER, "kpi", "", "refused", "private"),
        (STRANGER, "audit", "", "refused", "private"),
        (OPERATOR, "member", "", "usage", "private"),
        (OPERATOR, "export", "sideways", "usage", "private"),
        (OPERATOR, "member", "424242", "ok", "private"),
        (OPERATOR, "kpi", "", "elsewhere", "group"),
    ]
    assert entries[0].user_name == "Mallory (@mallory)"
    assert entries[-1].chat_id == COMMUNITY

    [shown] = await _ask(app, sandbox, clock, OPERATOR, "/audit 3")
    lines = [line for line in shown.splitlines() if "→" in line]
    assert len(lines) == 3
    assert "/kpi" in lines[0] and "elsewhere" in lines[0] and "Demo community" in lines[0]
    assert "/member 424242" in lines[1] and "→ ok" in lines[1]
    assert "/export sideways" in lines[2] and "usage" in lines[2]
    assert (await _audit(app))[-1].command == "audit"  # /audit logs itself


async def test_audit_answers_usage_and_caps_at_a_hundred(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    [usage] = await _ask(app, sandbox, clock, OPERATOR, "/audit lots")
    assert "/audit [N≤100]" in usage
    async with app.db.transaction() as session:
        for i in range(104):
            await AuditRepository(session).add(
                update_id=10**9 + i,
                at=app.clock.now() + timedelta(seconds=i),
                user_id=OPERATOR,
                user_name="Olga",
                chat_id=OPERATOR,
                chat_kind=ChatKind.PRIVATE,
                command="member",
                args=str(i + 1),
                result="ok",
            )
    await settle(app, sandbox)
    clock.advance(seconds=2)
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, "/audit 500")
    for _ in range(10):  # four messages, one a second
        await settle(app, sandbox)
        if len(sandbox.sent_messages(OPERATOR)) == before + 4:
            break
        clock.advance(seconds=1)
    shown = [m.text for m in sandbox.sent_messages(OPERATOR)][before:]
    lines = [line for text in shown for line in text.splitlines() if "→" in line]
    assert len(lines) == 100  # in four messages of 25
    assert "/member 104<" in lines[0] and "/member 5<" in lines[-1]
    assert "last 100" in shown[0]


async def test_secrets_in_arguments_are_not_logged(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _ask(app, sandbox, clock, OPERATOR, "/redeem ABCDE-FGHJK-MNPQR")
    await _ask(app, sandbox, clock, OPERATOR, "/coupon give @ann newcomer ABCDE FGHJK MNPQR")
    await _ask(app, sandbox, clock, OPERATOR, "/sop reload token=abc123secret " + "Zz9" * 10)
    args = [e.args for e in await _audit(app)]
    assert args[0] == "ABCD…"
    assert "FGHJK" not in args[1] and args[1].startswith("give @ann newcomer ABCD…")
    assert "abc123secret" not in args[2] and "Zz9Zz9Zz9Zz9" not in args[2]


async def test_a_failing_command_is_rolled_back_logged_and_answered(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.add_user(7101, "Ann")
    sandbox.user_sends(7101, "/start")
    await settle(app, sandbox)

    async def broken(
        self: MemberViewService,
        team: object,
        origin: object,
        person: object,
        args: str | None,
        now: object,
    ) -> None:
        await TagRepository(self._session).add(7101, "written-then-failed", "test", app.clock.now())
        raise RuntimeError("boom")

    monkeypatch.setattr(MemberViewService, "answer", broken)
    [answer] = await _ask(app, sandbox, clock, OPERATOR, "/member 7101")
    assert "/member" in answer and "failed" in answer
    await settle(app, sandbox)
    [entry] = await _audit(app)
    assert (entry.command, entry.args, entry.result) == ("member", "7101", "error")
    async with app.sessions() as session:
        written = select(MemberTag).where(MemberTag.tag == "written-then-failed")
        assert (await session.execute(written)).first() is None  # rolled back (the loops may
        # tag Ann meanwhile: a value tier, a stage)
    # the update was handled once: Telegram will not get it again, nor will it be logged twice
    sandbox.user_sends(OPERATOR, "/help")
    await settle(app, sandbox)
    assert len(await _audit(app)) == 1


async def test_member_profile_shows_everything_escaped(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(7201, "<b>Ann</b> & co", username="ann_w", language_code="zh-hans")
    sandbox.user_sends(7201, "/start src_poster")
    sandbox.user_joins(COMMUNITY, 7201)
    await settle(app, sandbox)
    for _ in range(3):
        sandbox.user_sends(7201, "hello", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert app.runtime is not None
    async with app.db.transaction() as session:
        await TagRepository(session).add(7201, "vip<script>", "op:1001", clock.now())
        config = app.config.current
        await CouponService(session, config).issue(
            7201, "newcomer", issued_by=IssuedBy.OPERATOR, now=clock.now()
        )
    clock.advance(timedelta(days=10))
    sandbox.user_sends(7201, "back again", chat_id=COMMUNITY)
    await settle(app, sandbox)

    [text] = await _ask(app, sandbox, clock, OPERATOR, "/member @Ann_W")
    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; co" in text and "@ann_w" in text and "7201" in text
    assert "src_poster" in text
    assert "Demo community: joined 2026-11-20" in text
    assert "vip&lt;script&gt;" in text and "op:1001" in text
    assert "newcomer" in text and "valid until" not in text  # 7-day coupon: expired by now
    assert "expired" in text
    assert "1 in 7 days, 4 in 30 days" in text
    assert "Reachable by DM: yes" in text
    async with app.sessions() as session:
        member = await session.get(Member, 7201)
    assert member is not None
    coupon_hint = text.split("newcomer <code>")[1][:6]
    assert coupon_hint.endswith("…")  # never the whole code

    [unknown] = await _ask(app, sandbox, clock, OPERATOR, "/member @nobody_here")
    assert unknown == "No member @nobody_here is known to the bot."
    [usage] = await _ask(app, sandbox, clock, OPERATOR, "/member ann")
    assert "/member @username|ID" in usage


async def test_member_is_refused_to_members_and_kept_out_of_communities(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(7301, "Bob", username="bob")
    sandbox.user_joins(COMMUNITY, 7301)
    await settle(app, sandbox)
    [refusal] = await _ask(app, sandbox, clock, 7301, "/member @bob", chat=COMMUNITY)
    assert "Bob" not in refusal and "7301" not in refusal
    [pointer] = await _ask(app, sandbox, clock, OPERATOR, "/member @bob", chat=COMMUNITY)
    assert "7301" not in pointer
    [text] = await _ask(app, sandbox, clock, OPERATOR, "/member @bob", chat=TEAM_CHAT)
    assert "7301" in text
    results = [(e.user_id, e.result) for e in await _audit(app)]
    assert results == [(7301, "refused"), (OPERATOR, "elsewhere"), (OPERATOR, "ok")]
