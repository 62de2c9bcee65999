"""Orders on SQLite and PostgreSQL: parsing, the CSV import (line errors, summary, idempotent,
coupons redeemed) and the ``sopbot import-orders`` command."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.__main__ import main
from bot.config import CommunityConfig
from bot.db.models import GLOBAL_CHAT, Coupon, IssuedBy, Member, Order, Via
from bot.db.repositories import RollupRepository
from bot.db.session import Database
from bot.orders_import import ImportFileError, import_orders
from bot.services.commerce.coupons import CouponService
from bot.services.commerce.orders import (
    OrderInputError,
    OrderService,
    parse_amount,
    parse_order,
    parse_time,
)
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("12.50", 1250), ("12.5", 1250), (7, 700), ("0", 0), (" 1999 ", 199900), ("0.01", 1)],
)
def test_amounts_become_minor_units(typed: object, minor: int) -> None:
    assert parse_amount(typed) == minor


@pytest.mark.parametrize(
    "typed", ["12.505", "-1", "abc", "", None, True, "NaN", "Infinity", "1e20"]
)
def test_bad_amounts_are_named(typed: object) -> None:
    with pytest.raises(OrderInputError) as error:
        parse_amount(typed)
    assert error.value.reason.startswith("amount:")


def test_times() -> None:
    assert parse_time("2026-11-20T14:03:00+08:00", SHANGHAI) == datetime(
        2026, 11, 20, 6, 3, tzinfo=UTC
    )
    assert parse_time("2026-11-20 14:03", SHANGHAI) == datetime(2026, 11, 20, 6, 3, tzinfo=UTC)
    assert parse_time("2026-11-20T06:03:00Z", SHANGHAI) == datetime(2026, 11, 20, 6, 3, tzinfo=UTC)
    assert parse_time("1763618580", SHANGHAI) == datetime.fromtimestamp(1763618580, UTC)
    with pytest.raises(OrderInputError, match=r"^time:"):
        parse_time("yesterday", SHANGHAI)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"amount": "1", "time": "2026-11-20", "member_id": "5"}, "order_id"),
        (
            {"order_id": "has space", "amount": "1", "time": "2026-11-20", "member_id": "5"},
            "order_id",
        ),
        ({"order_id": "A1", "amount": "1", "time": "2026-11-20"}, "member_id or coupon"),
        ({"order_id": "A1", "time": "2026-11-20", "member_id": "5"}, "amount"),
        ({"order_id": "A1", "amount": "1", "member_id": "5"}, "time"),
        ({"order_id": "A1", "amount": "1", "time": "2026-11-20", "member_id": "-5"}, "member_id"),
        (
            {
                "order_id": "A1",
                "amount": "1",
                "time": "2026-11-20",
                "member_id": "5",
                "currency": "yuan",
            },
            "currency",
        ),
        ({"order_id": "A1", "amount": "1", "time": "2026-11-20", "coupon": 5}, "coupon"),
    ],
)
def test_order_fields_are_checked(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(OrderInputError) as error:
        parse_order(fields, SHANGHAI)
    assert error.value.reason.startswith(reason)


async def _member_with_code(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, user_id: int, now: datetime
) -> str:
    async with sessions() as session, session.begin():
        session.add(Member(user_id=user_id, first_name="Buyer", first_seen_at=now))
        await session.flush()
        coupon = await CouponService(session, config).issue(
            user_id, "newcomer", issued_by=IssuedBy.WELCOME, now=now
        )
        return coupon.code


async def test_an_order_is_counted_once_and_its_coupon_redeemed_once(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    code = await _member_with_code(sessions, config, 41, now)
    order = parse_order(
        {
            "order_id": "S-1",
            "coupon": code.lower(),
            "amount": "88.00",
            "time": "2026-11-20T10:00:00",
        },
        config.tz,
    )
    outcomes = []
    for _ in range(2):
        async with sessions() as session, session.begin():
            outcomes.append(await OrderService(session, config).record(order, now, via=Via.API))
    assert [(o.status, o.coupon, o.user_id) for o in outcomes] == [
        ("recorded", "redeemed", 41),
        ("duplicate", "none", None),
    ]
    again = parse_order(
        {"order_id": "S-2", "coupon": code, "amount": "5", "time": "2026-11-20", "currency": "cny"},
        config.tz,
    )
    async with sessions() as session, session.begin():
        second = await OrderService(session, config).record(again, now, via=Via.IMPORT)
    assert (second.status, second.coupon, second.user_id) == ("recorded", "used", 41)
    async with sessions() as session:
        orders = (await session.execute(select(Order).order_by(Order.id))).scalars().all()
        coupon = (await session.execute(select(Coupon))).scalar_one()
        rollup = await RollupRepository(session).get(GLOBAL_CHAT, date(2026, 11, 20))
    assert [(o.order_id, o.user_id, o.amount_minor, o.currency) for o in orders] == [
        ("S-1", 41, 8800, None),
        ("S-2", 41, 500, "CNY"),
    ]
    assert coupon.order_id == "S-1" and coupon.redeemed_via == "api"
    assert rollup is not None and rollup.coupons_redeemed == 1


async def test_concurrent_reports_of_one_order_count_once(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig, clock: ManualClock
) -> None:
    now = clock.now()
    code = await _member_with_code(sessions, config, 42, now)
    order = parse_order(
        {"order_id": "S-9", "coupon": code, "amount": "10", "time": "2026-11-20"}, config.tz
    )
    barrier = asyncio.Barrier(4)

    async def report() -> str:
        async with sessions() as session, session.begin():
            await barrier.wait()
            outcome = await OrderService(session, config).record(order, now, via=Via.API)
            await asyncio.sleep(0.05)
            return outcome.status

    statuses = sorted(await asyncio.gather(*(report() for _ in range(4))))
    assert statuses == ["duplicate", "duplicate", "duplicate", "recorded"]
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Order))).scalar_one() == 1


CSV = """order_id,member_id,coupon,amount,time,currency
A-1,41,,19.90,2026-11-19T20:00:00+08:00,CNY
A-2,,{code},100,2026-11-19 21:00,
A-3,41,,12.345,2026-11-19,
A-4,,,5,2026-11-19,
A-5,41,,5,someday,

A-6,41,,7
A-1,41,,19.90,2026-11-19T20:00:00+08:00,CNY
A-7,,ABCDE-FGHJK-MNPQR,3,2026-11-19,
"""


async def test_csv_import_reports_lines_and_is_idempotent(
    database_url: str, config: CommunityConfig, clock: ManualClock, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        from bot.db.migrate import upgrade

        await upgrade(db.engine)
        code = await _member_with_code(db.sessions, config, 41, clock.now())
        path = tmp_path / "orders.csv"
        path.write_text(CSV.format(code=code), encoding="utf-8")
        first = await import_orders(path, db, config, clock.now())
        assert (first.rows, first.recorded, first.duplicates) == (8, 3, 1)
        assert first.errors == [
            "line 4: amount: at most two decimals (got 12.345)",
            "line 5: member_id or coupon: one of them is required",
            "line 6: time: expected ISO 8601 like 2026-11-20T14:03:00+08:00 (got 'someday')",
            "line 8: 4 values for 6 columns",
        ]
        assert dict(first.coupons) == {"redeemed": 1, "unknown": 1}
        assert "3 recorded, 1 already known" in first.lines()[0]
        second = await import_orders(path, db, config, clock.now())
        assert (second.recorded, second.duplicates, len(second.errors)) == (0, 4, 4)
        async with db.sessions() as session:
            spend = (
                await session.execute(
                    select(func.sum(Order.amount_minor)).where(Order.user_id == 41)
                )
            ).scalar_one()
            rollup = await RollupRepository(session).get(GLOBAL_CHAT, date(2026, 11, 20))
        assert spend == 1990 + 10000
        assert rollup is not None and rollup.coupons_redeemed == 1
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("order,amount,time\n1,2,3\n", "unknown column(s) 'order'"),
        ("order_id,amount,time\nA,1,2026-11-20\n", "missing column(s) member_id or coupon"),
        ("order_id,member_id,time\nA,1,2026-11-20\n", "missing column(s) amount"),
    ],
)
async def test_an_unusable_file_imports_nothing(
    database_url: str,
    config: CommunityConfig,
    clock: ManualClock,
    tmp_path: Path,
    text: str,
    message: str,
) -> None:
    db = Database(database_url)
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
            await import_orders(path, db, config, clock.now())
    finally:
        await db.dispose()


def test_the_command_prints_a_summary_and_exits_by_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = tmp_path / "community.yaml"
    config_path.write_text(CONFIG_YAML, encoding="utf-8")
    monkeypatch.setenv("SOPBOT_CONFIG", str(config_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    good = tmp_path / "good.csv"
    # Excel writes a byte-order mark and semicolons in some locales
    good.write_text(
        "\ufefforder_id;member_id;amount;time\nB-1;7;10;2026-11-19\n"
        "B-2;7;2.50;2026-11-19T12:00:00+08:00\n",
        encoding="utf-8",
    )
    assert main(["import-orders", str(good)]) == 0
    out = capsys.readouterr()
    assert "2 rows: 2 recorded, 0 already known" in out.out and out.err == ""
    assert main(["import-orders", str(good)]) == 0
    assert "0 recorded, 2 already known" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "order_id,member_id,amount,time\nB-3,7,x,2026-11-19\nB-4,7,1,2026-11-19\n", encoding="utf-8"
    )
    assert main(["import-orders", str(bad)]) == 1
    out = capsys.readouterr()
    assert "bad.csv: line 2: amount:" in out.err and "1 recorded" in out.out

    assert main(["import-orders", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("B-5,7,1,2026-11-19\n", encoding="utf-8")
    assert main(["import-orders", str(headerless)]) == 2
    assert "line 1: unknown column(s)" in capsys.readouterr().err

    async def total() -> int:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
        try:
            async with db.sessions() as session:
                return int(
                    (await session.execute(select(func.sum(Order.amount_minor)))).scalar_one()
                )
        finally:
            await db.dispose()

    assert asyncio.run(total()) == 1000 + 250 + 100
