"""What people type where a number or a date is expected: an answer, never an exception."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.ids import parse_user_id
from bot.services.commerce.orders import OrderInputError, parse_member, parse_time
from bot.services.console.kpi_args import KpiArgsError, parse_kpi_args
from bot.services.records.exports import parse_range

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("text", ["²", "-5", "1e9", "0", "99999999999999999999", "", " ", "١٢٣"])
def test_user_ids_that_are_not_ids(text: str) -> None:
    assert parse_user_id(text) is None


def test_user_ids() -> None:
    assert parse_user_id(" 1001 ") == 1001
    assert parse_user_id(str(2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize(
    "text", ["9999-12-31..9999-12-31", "0001-01-01..0001-01-02", "2026-11-23..2026-11-20"]
)
def test_export_ranges_at_the_edges_of_the_calendar(text: str) -> None:
    assert parse_range(text, TODAY) is None


def test_an_export_range_reaching_past_today_ends_today() -> None:
    found = parse_range("2026-11-01..2026-11-30", TODAY)
    assert found is not None and (found.first, found.last) == (date(2026, 11, 1), TODAY)


@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-07", "9999-12-31"])
def test_kpi_days_at_the_edges_of_the_calendar(text: str) -> None:
    with pytest.raises(KpiArgsError):
        parse_kpi_args(text, [], TODAY)


@pytest.mark.parametrize("value", ["²", "--5", "99999999999999999999"])
def test_order_member_ids_that_are_not_ids(value: str) -> None:
    with pytest.raises(OrderInputError, match="member_id"):
        parse_member(value)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-05:00"])
def test_order_times_out_of_range(value: str) -> None:
    with pytest.raises(OrderInputError, match="time"):
        parse_time(value, ZoneInfo("Asia/Shanghai"))
