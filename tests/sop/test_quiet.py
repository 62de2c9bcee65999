"""Quiet hours: wall-clock periods that wrap midnight, exact boundaries, deferral across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop.quiet import QuietHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def at(
    tz: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_parse() -> None:
    assert QuietHours.parse("22:00-08:00", SHANGHAI) == QuietHours(time(22), time(8), SHANGHAI)
    assert QuietHours.parse(" 7:30 – 9:05 ", SHANGHAI) == QuietHours(
        time(7, 30), time(9, 5), SHANGHAI
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected HH:MM-HH:MM, e.g. 22:00-08:00"),
        ("22-08", "expected HH:MM-HH:MM"),
        ("22:00", "expected HH:MM-HH:MM"),
        ("22:00-08:00-09:00", "expected HH:MM-HH:MM"),
        ("10pm-8am", "expected HH:MM-HH:MM"),
        ("24:00-08:00", "24:00 is not a time of day (00:00-23:59)"),
        ("22:00-08:60", "08:60 is not a time of day"),
    ],
)
def test_parse_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        QuietHours.parse(text, SHANGHAI)
    assert message in str(caught.value)
    assert repr(text) in str(caught.value)


def test_a_period_wrapping_midnight_and_its_boundaries() -> None:
    quiet = QuietHours.parse("22:00-08:00", SHANGHAI)
    assert quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 22, 0))  # the start is quiet
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 21, 59, 59))
    assert quiet.is_quiet(at(SHANGHAI, 2025, 6, 3, 0, 0))
    assert quiet.is_quiet(at(SHANGHAI, 2025, 6, 3, 3, 0))
    assert quiet.is_quiet(at(SHANGHAI, 2025, 6, 3, 7, 59, 59))
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 3, 8, 0))  # the end is not
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 3, 12, 0))
    # the instant is read on the community's clock, whatever zone it comes in
    assert quiet.is_quiet(utc(2025, 6, 2, 14, 0))  # 22:00 in Shanghai
    assert not quiet.is_quiet(utc(2025, 6, 2, 0, 0))  # 08:00 in Shanghai


def test_a_period_within_a_day() -> None:
    quiet = QuietHours.parse("13:00-14:30", SHANGHAI)
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 12, 59))
    assert quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 13, 0))
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 14, 30))
    assert not quiet.is_quiet(at(SHANGHAI, 2025, 6, 2, 23, 0))
    assert quiet.defer(at(SHANGHAI, 2025, 6, 2, 13, 10)) == utc(2025, 6, 2, 6, 30)


def test_start_equal_to_end_is_never_quiet() -> None:
    quiet = QuietHours.parse("08:00-08:00", SHANGHAI)
    for hour in range(24):
        moment = at(SHANGHAI, 2025, 6, 2, hour, 0)
        assert not quiet.is_quiet(moment)
        assert quiet.defer(moment) == moment


def test_defer() -> None:
    quiet = QuietHours.parse("22:00-08:00", SHANGHAI)
    noon = at(SHANGHAI, 2025, 6, 2, 12, 0)
    assert quiet.defer(noon) == noon and quiet.defer(noon).tzinfo is UTC
    assert quiet.defer(at(SHANGHAI, 2025, 6, 2, 22, 0)) == utc(2025, 6, 3, 0, 0)  # tomorrow 08:00
    assert quiet.defer(at(SHANGHAI, 2025, 6, 2, 23, 30)) == utc(2025, 6, 3, 0, 0)
    assert quiet.defer(at(SHANGHAI, 2025, 6, 3, 3, 0)) == utc(2025, 6, 3, 0, 0)  # this morning
    assert quiet.defer(at(SHANGHAI, 2025, 6, 3, 7, 59)) == utc(2025, 6, 3, 0, 0)
    eight = at(SHANGHAI, 2025, 6, 3, 8, 0)
    assert quiet.defer(eight) == eight


def test_defer_across_spring_forward() -> None:
    # New York, night of 8-9 March 2025: 23:00 EST, clocks jump at 02:00; 08:00 is EDT
    quiet = QuietHours.parse("22:00-08:00", NEW_YORK)
    assert quiet.defer(at(NEW_YORK, 2025, 3, 8, 23, 0)) == utc(2025, 3, 9, 12, 0)  # not 13:00Z
    assert quiet.defer(at(NEW_YORK, 2025, 3, 9, 3, 30)) == utc(2025, 3, 9, 12, 0)


def test_defer_across_fall_back() -> None:
    # New York, night of 1-2 November 2025: 23:00 EDT, clocks fall back at 02:00; 08:00 is EST
    quiet = QuietHours.parse("22:00-08:00", NEW_YORK)
    assert quiet.defer(at(NEW_YORK, 2025, 11, 1, 23, 0)) == utc(2025, 11, 2, 13, 0)
    assert quiet.defer(at(NEW_YORK, 2025, 11, 2, 1, 30, fold=1)) == utc(2025, 11, 2, 13, 0)


def test_an_end_inside_the_spring_forward_gap_ends_when_the_gap_does() -> None:
    quiet = QuietHours.parse("22:00-02:30", NEW_YORK)  # 02:30 does not exist on 9 March
    assert quiet.defer(at(NEW_YORK, 2025, 3, 9, 1, 0)) == utc(2025, 3, 9, 7, 0)  # 03:00 EDT
    assert not quiet.is_quiet(utc(2025, 3, 9, 7, 0))


def test_an_end_that_happens_twice() -> None:
    # 00:00-01:30 on 2 November: 01:30 comes first in EDT, then the clock is back at 01:00 EST
    quiet = QuietHours.parse("00:00-01:30", NEW_YORK)
    first_pass = at(NEW_YORK, 2025, 11, 2, 1, 10)  # 05:10Z
    second_pass = at(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)  # 06:10Z
    assert quiet.defer(first_pass) == utc(2025, 11, 2, 5, 30)
    # the wall clock says 01:10 again: quiet again, until 01:30 comes round the second time
    assert quiet.is_quiet(second_pass)
    assert quiet.defer(second_pass) == utc(2025, 11, 2, 6, 30)


def test_naive_instants_are_refused() -> None:
    quiet = QuietHours.parse("22:00-08:00", SHANGHAI)
    naive = datetime(2025, 6, 2, 23)  # noqa: DTZ001  naive on purpose: it must be refused
    with pytest.raises(ValueError, match="aware"):
        quiet.is_quiet(naive)
    with pytest.raises(ValueError, match="aware"):
        quiet.defer(naive)


ZONES = [
    ZoneInfo(z)
    for z in ("Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe")
]
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))


@settings(max_examples=300, deadline=None)
@given(
    start=wall_times,
    end=wall_times,
    tz=st.sampled_from(ZONES),
    instant=st.datetimes(  # hypothesis takes naive bounds; `timezones` makes them aware
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001
        max_value=datetime(2026, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_defer_is_the_first_moment_that_is_not_quiet(
    start: time, end: time, tz: ZoneInfo, instant: datetime
) -> None:
    quiet = QuietHours(start, end, tz)
    later = quiet.defer(instant)
    assert later.tzinfo is UTC
    assert later >= instant
    assert not quiet.is_quiet(later)
    assert (later == instant) == (not quiet.is_quiet(instant))
    # deferred to the end of this period, not past a later one: quiet all the way there
    step = instant
    while step + timedelta(minutes=1) < later:
        step += timedelta(minutes=1)
        assert quiet.is_quiet(step), step
