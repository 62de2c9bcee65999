"""A code whose campaign was withdrawn from the config is void, by one rule
(bot/services/commerce/coupons.py:withdrawn), everywhere: /mycoupons shows it *void*, /redeem
refuses it saying why, the orders endpoint records the order and answers ``"coupon": "void"``;
the code stays unredeemed. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import Coupon
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR
from tests.e2e.helpers import post, run_clock, seed
from tests.e2e.test_my_coupons import ANN, CODES, _ask, _give, config  # noqa: F401  (its config)

VOID = CODES["ann_void"]  # of "spring", a campaign not in this config


async def _unredeemed(app: SopBot) -> bool:
    async with app.db.sessions() as session:
        coupon = (await session.execute(select(Coupon).where(Coupon.code == VOID))).scalar_one()
    return coupon.redeemed_at is None


async def test_a_void_code_is_refused_by_redeem_and_by_orders(
    shop_app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    app = shop_app
    await seed(app, sandbox, [ANN])
    await _give(app, ANN)
    await _ask(app, sandbox, clock, ANN)
    shown = re.sub(r"<[^>]+>", "", sandbox.sent_messages(ANN)[-1].text)
    assert re.search(rf"{VOID}.*void", shown), shown
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, f"/redeem {VOID.lower()}")
    await run_clock(app, sandbox, clock, 3)
    [answer] = sandbox.sent_messages(OPERATOR)[before:]
    assert "void" in answer.text and "spring" in answer.text and "not redeemed" in answer.text
    assert await _unredeemed(app)
    order = {
        "order_id": "SHOP-V1",
        "member_id": ANN,
        "amount": "19.9",
        "time": "2026-11-20T08:30:00+08:00",
        "coupon": VOID,
    }
    status, body = await post(app, order)
    assert (status, body["status"], body["coupon"]) == (200, "recorded", "void")
    assert "withdrawn" in str(body["coupon_detail"])
    assert await _unredeemed(app)
    # an open code of a live campaign still goes through both ways
    order = {**order, "order_id": "SHOP-V2", "coupon": CODES["ann_open"]}
    assert (await post(app, order))[1]["coupon"] == "redeemed"
