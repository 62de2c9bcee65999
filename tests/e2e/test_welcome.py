"""Welcome SOP end to end: the real bot, the sandbox, real HTTP, a virtual clock."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import Coupon, Member, Membership
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY
from tests.e2e.helpers import settle

CODE = re.compile(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")


async def test_start_with_source_records_member_and_sends_gift(
        app: SopBot, sandbox: TelegramSandbox) -> None:
    sandbox.add_user(2001, "Lin", language_code="zh-hans")
    sandbox.user_sends(2001, "/start src_douyin")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(2001)) == 1)

    gift = sandbox.sent_messages(2001)[0]
    assert CODE.search(gift.text), gift.text
    async with app.sessions() as session:
        member = await session.get(Member, 2001)
        assert member is not None
        assert (member.source, member.source_kind, member.dm_allowed) == ("src_douyin", "deeplink",
                                                                          True)
        coupons = (await session.execute(select(Coupon).where(Coupon.user_id == 2001))).scalars()
        assert [c.campaign for c in coupons] == ["newcomer"]


async def test_group_joins_share_one_greeting_within_the_batch_window(
        app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> None:
    for uid in range(3001, 3006):
        sandbox.add_user(uid, f"U{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    assert sandbox.sent_messages(COMMUNITY) == []   # the batch window is still open

    clock.advance(minutes=2)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    greeting = sandbox.sent_messages(COMMUNITY)[0]
    for uid in range(3001, 3006):
        assert f"tg://user?id={uid}" in greeting.text
    button = greeting.reply_markup["inline_keyboard"][0][0]
    assert button["url"].endswith("?start=gift")

    await settle(app, sandbox)
    async with app.sessions() as session:
        stints = (await session.execute(select(Membership))).scalars().all()
        assert len(stints) == 5
        assert all(s.welcomed_at is not None and s.welcomed_at - s.joined_at <= timedelta(minutes=30)
                   for s in stints)
