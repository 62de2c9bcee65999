"""Complaint and crisis alerts (``alerts.keywords``) and members' ``/report``: the team chat is
told within 60 s with a ``t.me/c`` link and claim / resolve buttons only operators may press;
several complaints within minutes are one incident; operators' reply commands."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import AuditEntry, ModAlert
from sandbox import TelegramSandbox
from sandbox.actions import PostingRefused
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML, OPERATOR, TEAM_CHAT
from tests.e2e.helpers import settle

ANGRY = "你们产品太垃圾了，我要投诉，马上退款，不然曝光你们！"
MEMBERS = (3201, 3202, 3203, 3204)
STRANGER = 3299
ALERTS = """
alerts:
  keywords:
    complaint: [投诉, 退款, refund]
    incident: [曝光, 维权]
"""


@pytest.fixture
def config() -> CommunityConfig:
    return parse_config(CONFIG_YAML + ALERTS, "tests/e2e/test_moderation_alerts.py")


def _link(message_id: int) -> str:
    return f"https://t.me/c/{str(COMMUNITY).removeprefix('-100')}/{message_id}"


def _alerts(sandbox: TelegramSandbox) -> list[str]:
    """The team chat's complaint alerts (not the first-response escalations)."""
    return [
        m.text
        for m in sandbox.sent_messages(TEAM_CHAT)
        if "t.me/c/" in m.text and "无人回复" not in m.text
    ]


def _in_group(sandbox: TelegramSandbox, *users: int) -> None:
    for user in users:
        sandbox.add_user(user, f"M{user}", language_code="zh")
        sandbox.world.set_status(COMMUNITY, user, "member")


async def test_a_complaint_reaches_the_team_within_60_s_with_a_link_and_buttons(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, MEMBERS[0], STRANGER)
    calm = sandbox.user_sends(MEMBERS[0], "请问退货地址在哪", chat_id=COMMUNITY)["message"]
    angry = sandbox.user_sends(MEMBERS[0], ANGRY, chat_id=COMMUNITY)["message"]
    sent_at = clock.timestamp()
    await settle(app, sandbox)
    [alert] = [m for m in sandbox.sent_messages(TEAM_CHAT) if _link(angry["message_id"]) in m.text]
    assert alert.at - sent_at <= 60
    assert "重大事件" in alert.text  # 曝光 is an incident word: the most severe level wins
    assert _link(calm["message_id"]) not in "".join(_alerts(sandbox))
    assert alert.reply_markup is not None
    claim, resolve = alert.reply_markup["inline_keyboard"][0]

    # a member who sees the alert (forwarded, or in the team chat by mistake) cannot claim it
    sandbox.press_button(STRANGER, alert.message_id, TEAM_CHAT, claim["callback_data"])
    await settle(app, sandbox)
    async with app.sessions() as session:
        row = (await session.execute(select(ModAlert))).scalar_one()
    assert row.claimed_by is None
    sandbox.world.set_status(TEAM_CHAT, OPERATOR, "member")
    sandbox.press_button(OPERATOR, alert.message_id, TEAM_CHAT, claim["callback_data"])
    await settle(app, sandbox)
    clock.advance(minutes=20)
    sandbox.press_button(OPERATOR, alert.message_id, TEAM_CHAT, resolve["callback_data"])
    await settle(app, sandbox)
    async with app.sessions() as session:
        row = (await session.execute(select(ModAlert))).scalar_one()
    assert row.claimed_by == OPERATOR and row.resolved_by == OPERATOR
    answers: list[dict[str, Any]] = [
        q["answer"] for q in sandbox.world.callback_queries.values() if "answer" in q
    ]
    assert len(answers) == 3 and all(len(a["text"] or "") <= 200 for a in answers)
    assert answers[0]["show_alert"] is True  # the stranger's refusal

    # an edit of the same message is not a second alert
    sandbox.user_edits(MEMBERS[0], COMMUNITY, angry["message_id"], ANGRY + "!!")
    await settle(app, sandbox)
    assert len(_alerts(sandbox)) == 1 + 2  # the alert, claimed, resolved


async def test_several_complaints_within_minutes_are_one_incident(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, *MEMBERS)
    for member in MEMBERS:
        sandbox.user_sends(member, "我要退款，太失望了", chat_id=COMMUNITY)
        clock.advance(seconds=40)
    await settle(app, sandbox)
    texts = _alerts(sandbox)
    incidents = [t for t in texts if "舆情事件" in t]
    assert len(incidents) == 1
    assert len(texts) == 3  # two complaints alone, then one incident for all (the 4th counted)
    async with app.sessions() as session:
        rows = (await session.execute(select(ModAlert).order_by(ModAlert.id))).scalars().all()
    assert len(rows) == 4 and {r.incident_id for r in rows} == {rows[0].id}


async def test_an_unclaimed_alert_is_told_again_past_half_its_time(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, MEMBERS[0])
    sandbox.user_sends(MEMBERS[0], "我要投诉客服态度", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert len(_alerts(sandbox)) == 1
    clock.advance(minutes=50)
    await settle(app, sandbox)
    assert len(_alerts(sandbox)) == 1
    clock.advance(minutes=15)  # 65 min: past half of the complaint's 2 h
    await settle(app, sandbox)
    reminders = [t for t in _alerts(sandbox) if "无人认领" in t]
    assert len(reminders) == 1
    clock.advance(minutes=30)
    await settle(app, sandbox)
    assert len([t for t in _alerts(sandbox) if "无人认领" in t]) == 1  # once


async def test_a_member_reports_a_message_once(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, *MEMBERS[:3])
    bad = sandbox.user_sends(MEMBERS[0], "有人私信我要钱", chat_id=COMMUNITY)["message"]
    for member in MEMBERS[1:3]:
        sandbox.user_sends(
            member, "/report", chat_id=COMMUNITY, reply_to_message_id=bad["message_id"]
        )
    await settle(app, sandbox)
    [told] = _alerts(sandbox)
    assert _link(bad["message_id"]) in told and "举报" in told


async def test_operators_reply_commands_act_and_are_audited(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    _in_group(sandbox, MEMBERS[0], STRANGER)
    sandbox.world.set_status(COMMUNITY, OPERATOR, "member")
    target = sandbox.user_sends(MEMBERS[0], "hello", chat_id=COMMUNITY)["message"]
    reply = {"chat_id": COMMUNITY, "reply_to_message_id": target["message_id"]}
    sandbox.user_sends(STRANGER, "/ban", **reply)  # not an operator: refused
    sandbox.user_sends(OPERATOR, "/warn spam", **reply)
    sandbox.user_sends(OPERATOR, "/mute 2h", **reply)
    await settle(app, sandbox)
    with pytest.raises(PostingRefused):
        sandbox.user_sends(MEMBERS[0], "still here?", chat_id=COMMUNITY)
    [mute] = [c for c in sandbox.calls if c.method == "restrictChatMember"]
    assert mute.params["until_date"] == pytest.approx(clock.timestamp() + 7200, abs=5)
    sandbox.user_sends(OPERATOR, "/unmute", **reply)
    sandbox.user_sends(OPERATOR, "/del", **reply)
    sandbox.user_sends(OPERATOR, "/ban", **reply)
    await settle(app, sandbox)
    assert sandbox.world.status(COMMUNITY, MEMBERS[0]) == "kicked"
    assert (COMMUNITY, target["message_id"]) not in sandbox.world.messages
    assert not any(
        c.method == "banChatMember" and c.params["user_id"] == STRANGER for c in sandbox.calls
    )
    sandbox.user_sends(OPERATOR, "/mute 1h", chat_id=COMMUNITY)  # no reply: the usage line
    sandbox.user_sends(OPERATOR, "/modlog")
    await settle(app, sandbox)
    [log] = [m.text for m in sandbox.sent_messages(OPERATOR) if "ban" in m.text]
    assert "mute" in log and "warn" in log
    async with app.sessions() as session:
        audited = list(
            (
                await session.execute(
                    select(AuditEntry.command, AuditEntry.result).order_by(AuditEntry.id)
                )
            ).all()
        )
    assert ("ban", "refused") in audited
    assert [c for c, r in audited if r == "ok"] == [
        "warn",
        "mute",
        "unmute",
        "del",
        "ban",
        "modlog",
    ]
    assert ("mute", "usage") in audited
