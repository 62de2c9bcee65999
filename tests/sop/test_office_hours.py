"""Office hours (service.hours) and the clock that counts only office time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sop.office_hours import OfficeHours, OfficeHoursError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in Shanghai (the 20th is a Friday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_inside_and_outside_weekday_hours() -> None:
    hours = OfficeHours.parse("mon-fri 09:00-21:00", SHANGHAI)
    assert hours.is_open(local(20, 9))
    assert not hours.is_open(local(20, 21))
    assert not hours.is_open(local(21, 12))  # Saturday
    assert hours.next_open(local(20, 22)) == local(23, 9).astimezone(UTC)  # Monday
    assert hours.next_open(local(20, 10)) == local(20, 10)


def test_the_deadline_counts_office_time_only() -> None:
    hours = OfficeHours.parse("mon-fri 09:00-21:00", SHANGHAI)
    # 20:58 Friday + 5 minutes of office time: 2 today, 3 on Monday morning
    assert hours.deadline(local(20, 20, 58), timedelta(minutes=5)) == local(23, 9, 3)
    assert hours.deadline(local(21, 3), timedelta(minutes=5)) == local(23, 9, 5)
    assert hours.office_time(local(20, 20, 58), local(23, 9, 3)) == timedelta(minutes=5)


def test_several_spans_and_one_past_midnight() -> None:
    hours = OfficeHours.parse("mon-fri 09:00-18:00, sat 20:00-02:00", SHANGHAI)
    assert hours.is_open(local(22, 1))  # Sunday 01:00, from Saturday's evening span
    assert not hours.is_open(local(22, 3))
    assert hours.deadline(local(21, 23, 58), timedelta(minutes=5)) == local(22, 0, 3)
    daily = OfficeHours.parse("daily 10:00-18:00", SHANGHAI)
    assert daily.is_open(local(22, 10))


@pytest.mark.parametrize(
    "text", ["mon-fry 09:00-21:00", "weekdays 9-5", "mon 09:00-09:00", "mon 25:00-26:00", ""]
)
def test_bad_hours_are_refused_with_what_was_expected(text: str) -> None:
    with pytest.raises(OfficeHoursError):
        OfficeHours.parse(text, SHANGHAI)
