"""POST /api/orders over real HTTP against the running bot (polling mode): signatures, reasons,
duplicates, coupons redeemed by orders; the secret never reaches the log."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import Settings
from bot.db.models import GLOBAL_CHAT, Order
from bot.db.repositories import RollupRepository
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.e2e.helpers import SHOP_SECRET, post, settle, sign

CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")


async def _orders(app: SopBot) -> list[tuple[str, int | None, int]]:
    async with app.db.sessions() as session:
        rows = (await session.execute(select(Order).order_by(Order.id))).scalars().all()
    return [(o.order_id, o.user_id, o.amount_minor) for o in rows]


async def test_a_signed_order_is_recorded_once(shop_app: SopBot) -> None:
    order = {
        "order_id": "SHOP-1",
        "member_id": 5001,
        "amount": 129.9,
        "time": "2026-11-20T08:30:00+08:00",
        "currency": "CNY",
    }
    assert await post(shop_app, order) == (
        200,
        {
            "order_id": "SHOP-1",
            "status": "recorded",
            "member_id": 5001,
            "coupon": "none",
            "coupon_detail": None,
        },
    )
    status, body = await post(shop_app, order)
    assert (status, body["status"]) == (200, "duplicate")
    assert await _orders(shop_app) == [("SHOP-1", 5001, 12990)]


async def test_signatures_are_checked(shop_app: SopBot) -> None:
    order = json.dumps(
        {"order_id": "SHOP-2", "member_id": 5001, "amount": "10", "time": "2026-11-20"}
    ).encode()
    for signature in (
        None,
        "",
        "sha256=",
        sign(order, "another-secret-0123456789"),
        sign(order + b" "),
        sign(order).replace("sha256", "sha1"),
        sign(order)[:-2],
        "garbage",
    ):
        status, body = await post(shop_app, order, signature=signature)
        assert status == 401 and "Signature" in body["error"], signature
    status, _ = await post(shop_app, order, signature=sign(order).upper().replace("SHA", "sha"))
    assert status == 200  # hex digits in either case
    assert await _orders(shop_app) == [("SHOP-2", 5001, 1000)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "one JSON object"),
        ({"member_id": 1, "amount": 1, "time": "2026-11-20"}, "order_id"),
        ({"order_id": "X", "amount": 1, "time": "2026-11-20"}, "member_id or coupon"),
        ({"order_id": "X", "member_id": 1, "amount": 1.234, "time": "2026-11-20"}, "amount"),
        ({"order_id": "X", "member_id": 1, "amount": "ten", "time": "2026-11-20"}, "amount"),
        ({"order_id": "X", "member_id": 1.5, "amount": 1, "time": "2026-11-20"}, "member_id"),
        ({"order_id": "X", "member_id": 1, "amount": 1, "time": "soon"}, "time"),
    ],
)
async def test_malformed_orders_get_400_with_the_reason(
    shop_app: SopBot, body: bytes | dict[str, Any], reason: str
) -> None:
    status, answer = await post(shop_app, body)
    assert status == 400 and reason in answer["error"]
    assert await _orders(shop_app) == []


async def test_an_order_with_a_coupon_redeems_it_and_a_replay_does_not(
    shop_app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(5101, "Buyer")
    sandbox.user_sends(5101, "/start")  # the welcome gift carries a code
    await sandbox.wait_for(lambda: any(CODE.search(m.text) for m in sandbox.sent_messages(5101)))
    await settle(shop_app, sandbox)
    match = next(CODE.search(m.text) for m in sandbox.sent_messages(5101) if CODE.search(m.text))
    assert match
    order = {
        "order_id": "SHOP-3",
        "coupon": match.group(0),
        "amount": "59",
        "time": "2026-11-20T09:00:00+08:00",
    }
    replies = await asyncio.gather(*(post(shop_app, order) for _ in range(3)))
    assert sorted(body["status"] for _, body in replies) == ["duplicate", "duplicate", "recorded"]
    recorded = next(body for _, body in replies if body["status"] == "recorded")
    assert (recorded["member_id"], recorded["coupon"]) == (5101, "redeemed")
    other = {**order, "order_id": "SHOP-4"}
    status, body = await post(shop_app, other)
    assert (status, body["coupon"]) == (200, "used") and "already redeemed" in body["coupon_detail"]
    async with shop_app.db.sessions() as session:
        rollup = await RollupRepository(session).get(GLOBAL_CHAT, date(2026, 11, 20))
        count = (await session.execute(select(func.count()).select_from(Order))).scalar_one()
    assert rollup is not None and rollup.coupons_redeemed == 1
    assert count == 2


async def test_only_post_and_the_secret_stays_out_of_the_log(
    shop_app: SopBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert shop_app.orders_api is not None and shop_app.orders_api.url is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{shop_app.orders_api.url}/api/orders") as response:
            assert response.status == 405
        async with http.post(
            f"{shop_app.orders_api.url}/api/orders", data=b"x" * (65 * 1024)
        ) as response:
            assert response.status == 413
    await post(
        shop_app,
        {"order_id": "SHOP-5", "member_id": 5, "amount": 1, "time": "2026-11-20"},
        signature="sha256=00",
    )
    await post(shop_app, {"order_id": "SHOP-6", "member_id": 5, "amount": 1, "time": "2026-11-20"})
    assert SHOP_SECRET not in caplog.text and "SHOP-6 recorded" in caplog.text


def test_a_weak_or_malformed_setting_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(orders_secret="short")
    with pytest.raises(ValidationError, match="ORDERS_LISTEN"):
        Settings(orders_listen="8081")
    assert Settings().orders_secret is None  # off unless set
