"""POST /api/orders against hostile input, over real HTTP on SQLite and PostgreSQL: numbers whose
conversion would freeze the event loop, overflow or round to 0 are refused by name before they
are converted; a flood of bad signatures is a few log lines; a coupon issued to another member
is not redeemed by an order."""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

import bot.services.commerce.orders as orders_module
from bot.app import SopBot
from bot.db.models import Coupon, Order
from bot.db.repositories.growth import OrderRepository
from bot.orders_import import import_orders
from sandbox import TelegramSandbox
from tests.e2e.helpers import post, settle

CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")


def _body(**raw: str) -> bytes:
    """An order with the given fields written as raw JSON (``1e999999999`` is no Python float)."""
    fields = {
        "order_id": '"H-1"',
        "member_id": "5001",
        "amount": "10",
        "time": '"2026-11-20T10:00:00+08:00"',
        **raw,
    }
    return ("{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}").encode()


async def _orders(app: SopBot) -> list[Order]:
    async with app.db.sessions() as session:
        return list((await session.execute(select(Order).order_by(Order.id))).scalars().all())


HOSTILE = [
    pytest.param("time", "1e1000000", id="time-1e1000000"),  # froze the loop ~30 s
    pytest.param("time", "1e999999999", id="time-1e999999999"),  # would never return
    pytest.param("time", "1e-999999999", id="time-tiny"),  # recorded as 1970
    pytest.param("time", "-1e999999999", id="time-negative-huge"),
    pytest.param("time", "9" * 5000, id="time-5000-digits"),
    pytest.param("time", "NaN", id="time-nan"),
    pytest.param("time", "Infinity", id="time-infinity"),
    pytest.param("amount", "1e999999999", id="amount-1e999999999"),  # a 500 (Overflow)
    pytest.param("amount", "1e1000000", id="amount-1e1000000"),
    pytest.param("amount", "-1e999999999", id="amount-negative-huge"),
    pytest.param("amount", "1e-999999999", id="amount-tiny"),  # recorded as 0
    pytest.param("amount", '"1e-999999999"', id="amount-tiny-text"),
    pytest.param("amount", "0.0100000000000000000000000000001", id="amount-rounded"),  # as 1
    pytest.param("amount", "9" * 60000, id="amount-60000-digits"),
    pytest.param("amount", "Infinity", id="amount-infinity"),
    pytest.param("member_id", "9" * 5000, id="member-5000-digits"),  # a 500 (int limit)
]


@pytest.mark.parametrize(("field", "raw"), HOSTILE)
async def test_hostile_numbers_are_400_naming_the_field(
    shop_app: SopBot, caplog: pytest.LogCaptureFixture, field: str, raw: str
) -> None:
    caplog.set_level(logging.INFO)
    status, answer = await post(shop_app, _body(**{field: raw}))
    assert status == 400, answer
    assert answer["error"].startswith(f"{field}:"), answer
    assert await _orders(shop_app) == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        p
        for p in HOSTILE
        if p.id
        in (
            "time-1e1000000",
            "time-1e999999999",
            "time-5000-digits",
            "amount-1e999999999",
            "amount-60000-digits",
        )
    ],
)
async def test_sizes_are_bounded_before_any_conversion(
    shop_app: SopBot, monkeypatch: pytest.MonkeyPatch, field: str, raw: str
) -> None:
    """``int()`` in the order parser only ever sees short text: a huge Decimal (or a long digit
    string) reaching it means the size was checked after the conversion, not before."""
    real_int = builtins.int

    class IsInt(type):
        def __instancecheck__(cls, instance: object) -> bool:
            return isinstance(instance, real_int)

    class BoundedInt(metaclass=IsInt):  # int() that refuses anything unbounded
        def __new__(cls, value: object = 0, *args: Any) -> int:  # type: ignore[misc]
            if not (isinstance(value, str) and len(value) <= orders_module.MAX_DIGITS):
                raise AssertionError(f"int() of an unbounded {type(value).__name__}")
            return real_int(value, *args)

    monkeypatch.setattr(orders_module, "int", BoundedInt, raising=False)
    status, answer = await post(shop_app, _body(**{field: raw}))
    assert (status, answer["error"].split(":")[0]) == (400, field)
    # the ordinary ones still go through the guarded parser
    status, answer = await post(shop_app, _body(time="1763618580", amount='"12.50"'))
    assert (status, answer["status"]) == (200, "recorded")
    assert [(o.amount_minor, int(o.ordered_at.timestamp())) for o in await _orders(shop_app)] == [
        (1250, 1763618580)
    ]


async def test_a_flood_of_bad_signatures_is_a_few_log_lines(
    shop_app: SopBot, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.orders_api import RefusalLog

    assert shop_app.orders_api is not None and shop_app.orders_api.url is not None
    now = [1000.0]
    shop_app.orders_api.refusals = RefusalLog(
        logging.getLogger("bot.orders_api"), monotonic=lambda: now[0]
    )
    caplog.set_level(logging.WARNING, logger="bot.orders_api")
    body = _body()
    statuses: list[int] = []
    orders_api = shop_app.orders_api  # ORDERS_SECRET is set
    async with aiohttp.ClientSession() as http:

        async def one(signature: str | None) -> int:
            headers = {} if signature is None else {"X-Sopbot-Signature": signature}
            async with http.post(
                f"{orders_api.url}/api/orders", data=body, headers=headers
            ) as response:
                return response.status

        for batch in range(100):  # 5,000 requests, 50 at a time; a minute passes half way
            if batch == 50:
                now[0] += 61
            statuses += await asyncio.gather(
                *(one(None if i % 2 else "sha256=00") for i in range(50))
            )
    assert statuses == [401] * 5000
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.orders_api" and r.levelno == logging.WARNING
    ]
    assert len(lines) == 2, lines
    assert "refused a request with a bad or missing signature" in lines[0]
    assert "refused 2500 more requests" in lines[1]
    shop_app.orders_api.refusals.flush()  # as at shutdown: the count still held
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.orders_api"]
    assert len(lines) == 3 and "refused 2499 more requests" in lines[2]
    assert await _orders(shop_app) == []


async def _code_of(shop_app: SopBot, sandbox: TelegramSandbox, user_id: int) -> str:
    sandbox.add_user(user_id, f"Member{user_id}")
    sandbox.user_sends(user_id, "/start")  # the welcome gift carries a code
    await sandbox.wait_for(lambda: any(CODE.search(m.text) for m in sandbox.sent_messages(user_id)))
    await settle(shop_app, sandbox)
    return next(
        match.group(0) for m in sandbox.sent_messages(user_id) if (match := CODE.search(m.text))
    )


async def test_a_coupon_of_another_member_is_not_redeemed_and_the_order_is_flagged(
    shop_app: SopBot, sandbox: TelegramSandbox, tmp_path: Path
) -> None:
    owner_code = await _code_of(shop_app, sandbox, 5201)
    status, answer = await post(
        shop_app,
        {
            "order_id": "X-1",
            "member_id": 5202,
            "coupon": owner_code,
            "amount": "30",
            "time": "2026-11-20T10:00:00+08:00",
        },
    )
    assert (status, answer["status"], answer["member_id"], answer["coupon"]) == (
        200,
        "recorded",
        5202,
        "not_owner",
    )
    assert "issued to another member" in answer["coupon_detail"]
    # an import is held to the same rule, and counted in its summary
    csv = tmp_path / "orders.csv"
    csv.write_text(
        f"order_id,member_id,coupon,amount,time\nX-2,5203,{owner_code},5,2026-11-20\n",
        encoding="utf-8",
    )
    summary = await import_orders(csv, shop_app.db, shop_app.config.current, shop_app.clock.now())
    assert dict(summary.coupons) == {"not_owner": 1}
    async with shop_app.db.sessions() as session:
        coupon = (
            await session.execute(select(Coupon).where(Coupon.code == owner_code))
        ).scalar_one()
        flagged = await OrderRepository(session).count_flagged("coupon_not_owner")
    assert coupon.redeemed_at is None and coupon.order_id is None  # the owner can still use it
    assert [(o.order_id, o.user_id, o.amount_minor, o.flag) for o in await _orders(shop_app)] == [
        ("X-1", 5202, 3000, "coupon_not_owner"),
        ("X-2", 5203, 500, "coupon_not_owner"),
    ]
    assert flagged == 2
    # the owner's own order still redeems it
    status, answer = await post(
        shop_app,
        {
            "order_id": "X-3",
            "member_id": 5201,
            "coupon": owner_code,
            "amount": "30",
            "time": "2026-11-20T11:00:00+08:00",
        },
    )
    assert (status, answer["coupon"], answer["member_id"]) == (200, "redeemed", 5201)
