"""Cron triggers: crontab parsing, fire times in a timezone, DST rules, dom/dow OR, properties
checked against a brute-force minute-by-minute oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop.triggers import SEARCH_YEARS, CronError, CronTrigger, wall_to_utc

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_ZONE = ZoneInfo("UTC")


def fires(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    at = start
    for _ in range(count):
        following = trigger.next_fire(at)
        assert following is not None
        found.append(following)
        at = following
    return found


def local(trigger: CronTrigger, instants: list[datetime]) -> list[str]:
    return [i.astimezone(trigger.tz).strftime("%a %d %H:%M") for i in instants]


# --- parsing ---------------------------------------------------------------------------------


def test_daily_in_shanghai_fires_at_eight_local_in_utc() -> None:
    trigger = CronTrigger("0 8 * * *", SHANGHAI)
    got = fires(trigger, datetime(2025, 6, 1, tzinfo=UTC), 2)
    assert got == [datetime(2025, 6, 2, 0, 0, tzinfo=UTC), datetime(2025, 6, 3, 0, 0, tzinfo=UTC)]
    assert all(g.tzinfo is UTC for g in got)


def test_next_fire_is_strictly_after() -> None:
    trigger = CronTrigger("0 8 * * *", SHANGHAI)
    at_eight = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
    assert trigger.next_fire(at_eight) == at_eight + timedelta(days=1)
    assert trigger.next_fire(at_eight - timedelta(microseconds=1)) == at_eight
    assert trigger.previous_fire(at_eight) == at_eight
    a_hair_before = at_eight - timedelta(microseconds=1)
    assert trigger.previous_fire(a_hair_before) == at_eight - timedelta(days=1)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # 2025-06-01 is a Sunday
        (
            "*/15 9 * * *",
            ["Sun 01 09:00", "Sun 01 09:15", "Sun 01 09:30", "Sun 01 09:45", "Mon 02 09:00"],
        ),
        (
            "0 8-18/4 * * *",
            ["Sun 01 08:00", "Sun 01 12:00", "Sun 01 16:00", "Mon 02 08:00", "Mon 02 12:00"],
        ),
        (
            "0 9 * * mon-fri",
            ["Mon 02 09:00", "Tue 03 09:00", "Wed 04 09:00", "Thu 05 09:00", "Fri 06 09:00"],
        ),
        (
            "0 9 * * 1-5",
            ["Mon 02 09:00", "Tue 03 09:00", "Wed 04 09:00", "Thu 05 09:00", "Fri 06 09:00"],
        ),
        (
            "0 9 * * 0",
            ["Sun 01 09:00", "Sun 08 09:00", "Sun 15 09:00", "Sun 22 09:00", "Sun 29 09:00"],
        ),
        (
            "0 9 * * 7",
            ["Sun 01 09:00", "Sun 08 09:00", "Sun 15 09:00", "Sun 22 09:00", "Sun 29 09:00"],
        ),
        (
            "0 9 * * SUN",
            ["Sun 01 09:00", "Sun 08 09:00", "Sun 15 09:00", "Sun 22 09:00", "Sun 29 09:00"],
        ),
        (
            "0 9 * * fri-sun",
            ["Sun 01 09:00", "Fri 06 09:00", "Sat 07 09:00", "Sun 08 09:00", "Fri 13 09:00"],
        ),
        (
            "0 9 * * 5-7",
            ["Sun 01 09:00", "Fri 06 09:00", "Sat 07 09:00", "Sun 08 09:00", "Fri 13 09:00"],
        ),
        (
            "0 9 * * 1,3/2",
            ["Mon 02 09:00", "Wed 04 09:00", "Fri 06 09:00", "Mon 09 09:00", "Wed 11 09:00"],
        ),
        (
            "5,35 0 1 jun,jul *",
            ["Sun 01 00:05", "Sun 01 00:35", "Tue 01 00:05", "Tue 01 00:35", "Mon 01 00:05"],
        ),
        (
            "@daily",
            ["Mon 02 00:00", "Tue 03 00:00", "Wed 04 00:00", "Thu 05 00:00", "Fri 06 00:00"],
        ),
        (
            "@weekly",
            ["Sun 08 00:00", "Sun 15 00:00", "Sun 22 00:00", "Sun 29 00:00", "Sun 06 00:00"],
        ),
    ],
)
def test_fields_names_ranges_steps(expr: str, expected: list[str]) -> None:
    trigger = CronTrigger(expr, UTC_ZONE)
    assert local(trigger, fires(trigger, datetime(2025, 6, 1, tzinfo=UTC), 5)) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 8 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 8 * * * *", "got 6"),
        ("", "got 0"),
        ("60 8 * * *", "minute field '60': 60 is out of range 0-59"),
        ("0 24 * * *", "hour field '24': 24 is out of range 0-23"),
        ("0 8 0 * *", "day-of-month field '0': 0 is out of range 1-31"),
        ("0 8 * 13 *", "month field '13': 13 is out of range 1-12"),
        ("0 8 * * 8", "day-of-week field '8': 8 is out of range 0-7"),
        ("*/0 8 * * *", "step '0' must be a positive whole number"),
        ("*/x 8 * * *", "step 'x' must be a positive whole number"),
        ("*/ 8 * * *", "step '' must be a positive whole number"),
        ("*/61 8 * * *", "step 61 is larger than the field's range 0-59"),
        (
            "0 8 * * fr",
            "day-of-week field 'fr': unknown value 'fr' (a number 0-7 or a name such as",
        ),
        ("0 8 * janu *", "month field 'janu': unknown value 'janu'"),
        ("0 mon * * *", "hour field 'mon': 'mon' is not a number 0-23"),
        ("0 8 * * 5-2", "range '5-2' runs backwards"),
        ("0 8,,9 * * *", "hour field '8,,9': empty item in the list"),
        ("-1 8 * * *", "minute field '-1': '' is not a number 0-59"),
        ("0 8 ? * *", "day-of-month field '?'"),
        ("@reboot", "unknown macro"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        CronTrigger(expr, SHANGHAI)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_never_fires() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert CronTrigger("0 0 31 2 *", SHANGHAI).never_fires(now)
    assert CronTrigger("0 0 30,31 2 *", SHANGHAI).never_fires(now)
    assert CronTrigger("0 0 31 2 *", SHANGHAI).next_fire(now) is None
    assert CronTrigger("0 0 31 2 *", SHANGHAI).previous_fire(now) is None
    assert not CronTrigger("0 0 31 * *", SHANGHAI).never_fires(now)
    # a leap day: found across the 2100 gap (no 29 February from 2096 to 2104)
    leap = CronTrigger("0 0 29 2 *", UTC_ZONE)
    assert not leap.never_fires(now)
    assert leap.next_fire(datetime(2096, 3, 1, tzinfo=UTC)) == datetime(2104, 2, 29, tzinfo=UTC)
    # 31 February "or" a Monday does fire: the day-of-week half matches
    assert not CronTrigger("0 0 31 2 mon", SHANGHAI).never_fires(now)


def test_naive_instants_are_refused() -> None:
    trigger = CronTrigger("0 8 * * *", SHANGHAI)
    naive = datetime(2025, 1, 1)  # noqa: DTZ001  naive on purpose: it must be refused
    with pytest.raises(ValueError, match="aware"):
        trigger.next_fire(naive)
    with pytest.raises(ValueError, match="aware"):
        trigger.previous_fire(naive)


def test_value_semantics() -> None:
    assert CronTrigger("0  8 * * *", SHANGHAI) == CronTrigger("0 8 * * *", SHANGHAI)
    assert CronTrigger("0 8 * * *", SHANGHAI) != CronTrigger("0 8 * * *", NEW_YORK)
    assert len({CronTrigger("0 8 * * *", SHANGHAI), CronTrigger("0 8 * * *", SHANGHAI)}) == 1
    assert (
        repr(CronTrigger("0 8 * * *", SHANGHAI))
        == "CronTrigger('0 8 * * *', zoneinfo.ZoneInfo(key='Asia/Shanghai'))"
    )


# --- day-of-month OR day-of-week (Vixie cron) ------------------------------------------------


def test_restricted_dom_and_dow_are_ored() -> None:
    trigger = CronTrigger("0 8 1 * mon", UTC_ZONE)  # 1 October 2025 is a Wednesday
    got = fires(trigger, datetime(2025, 9, 28, tzinfo=UTC), 4)
    assert local(trigger, got) == ["Mon 29 08:00", "Wed 01 08:00", "Mon 06 08:00", "Mon 13 08:00"]


def test_a_star_field_makes_it_an_and() -> None:
    # "*/2" starts with a star: every odd day *and* Monday (Vixie's DOM_STAR rule)
    trigger = CronTrigger("0 8 */2 * mon", UTC_ZONE)
    got = fires(trigger, datetime(2025, 10, 1, tzinfo=UTC), 3)
    assert local(trigger, got) == ["Mon 13 08:00", "Mon 27 08:00", "Mon 03 08:00"]  # 3 Nov
    only_dom = CronTrigger("0 8 1 * *", UTC_ZONE)
    assert local(only_dom, fires(only_dom, datetime(2025, 9, 28, tzinfo=UTC), 2)) == [
        "Wed 01 08:00",
        "Sat 01 08:00",
    ]


# --- daylight saving --------------------------------------------------------------------------


def test_spring_forward_fires_at_the_first_valid_time_after_the_gap() -> None:
    # 9 March 2025, New York: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day
    trigger = CronTrigger("30 2 * * *", NEW_YORK)
    got = fires(trigger, datetime(2025, 3, 8, 12, tzinfo=UTC), 3)
    assert got == [
        datetime(2025, 3, 9, 7, 0, tzinfo=UTC),  # 03:00 EDT, the end of the gap
        datetime(2025, 3, 10, 6, 30, tzinfo=UTC),  # 02:30 EDT
        datetime(2025, 3, 11, 6, 30, tzinfo=UTC),
    ]
    assert trigger.previous_fire(datetime(2025, 3, 9, 7, 0, tzinfo=UTC)) == got[0]
    assert trigger.previous_fire(datetime(2025, 3, 9, 6, 59, tzinfo=UTC)) == datetime(
        2025, 3, 8, 7, 30, tzinfo=UTC
    )  # 02:30 EST the day before


def test_several_times_in_one_gap_fire_once() -> None:
    trigger = CronTrigger("*/20 2 * * *", NEW_YORK)
    got = fires(trigger, datetime(2025, 3, 9, 5, tzinfo=UTC), 2)
    assert got == [datetime(2025, 3, 9, 7, 0, tzinfo=UTC), datetime(2025, 3, 10, 6, 0, tzinfo=UTC)]
    # and a time right after the gap is not doubled either
    after_gap = CronTrigger("0,30 2,3 * * *", NEW_YORK)
    got = fires(after_gap, datetime(2025, 3, 9, 5, tzinfo=UTC), 3)
    assert local(after_gap, got) == ["Sun 09 03:00", "Sun 09 03:30", "Mon 10 02:00"]


def test_fall_back_fires_once_at_the_first_occurrence() -> None:
    # 2 November 2025, New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice
    trigger = CronTrigger("30 1 * * *", NEW_YORK)
    got = fires(trigger, datetime(2025, 11, 1, 12, tzinfo=UTC), 2)
    assert got == [
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),  # 01:30 EDT
        datetime(2025, 11, 3, 6, 30, tzinfo=UTC),
    ]  # 01:30 EST, the next day
    assert trigger.previous_fire(datetime(2025, 11, 2, 6, 45, tzinfo=UTC)) == got[0]
    hourly = CronTrigger("0 * * * *", NEW_YORK)
    got = fires(hourly, datetime(2025, 11, 2, 3, 30, tzinfo=UTC), 4)
    assert [g.strftime("%H:%M") for g in got] == ["04:00", "05:00", "07:00", "08:00"]  # UTC
    assert local(hourly, got) == ["Sun 02 00:00", "Sun 02 01:00", "Sun 02 02:00", "Sun 02 03:00"]


def test_thirty_minute_dst_shift() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 5 October 2025
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    trigger = CronTrigger("15 2 * * *", lord_howe)
    got = trigger.next_fire(datetime(2025, 10, 4, 12, tzinfo=UTC))
    assert got is not None
    assert got.astimezone(lord_howe).strftime("%d %H:%M %z") == "05 02:30 +1100"


def test_wall_to_utc() -> None:
    # wall times are naive on purpose: wall_to_utc reads them in the zone
    in_the_gap = datetime(2025, 3, 9, 2, 30)  # noqa: DTZ001
    twice = datetime(2025, 11, 2, 1, 30)  # noqa: DTZ001
    assert wall_to_utc(in_the_gap, NEW_YORK) == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert wall_to_utc(twice, NEW_YORK) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        wall_to_utc(datetime(2025, 1, 1, tzinfo=UTC), NEW_YORK)


# --- properties against a brute-force oracle --------------------------------------------------

FIELD_RANGES = {"minute": (0, 59), "hour": (0, 23), "dom": (1, 31), "month": (1, 12), "dow": (0, 6)}
#: zones with instants near their daylight-saving changes, where the rules are easiest to get wrong
ZONE_ANCHORS = [
    (ZoneInfo("America/New_York"), datetime(2025, 3, 9, 6, tzinfo=UTC)),  # spring forward
    (ZoneInfo("America/New_York"), datetime(2025, 11, 2, 5, tzinfo=UTC)),  # fall back
    (ZoneInfo("Europe/Berlin"), datetime(2025, 3, 30, 0, 30, tzinfo=UTC)),
    (ZoneInfo("Europe/Berlin"), datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),
    (ZoneInfo("Australia/Lord_Howe"), datetime(2025, 10, 4, 15, tzinfo=UTC)),  # 30 minutes
    (ZoneInfo("Australia/Lord_Howe"), datetime(2026, 4, 4, 14, tzinfo=UTC)),
    (ZoneInfo("Asia/Shanghai"), datetime(2024, 2, 28, 23, tzinfo=UTC)),
    (ZoneInfo("UTC"), datetime(2025, 12, 31, 23, tzinfo=UTC)),
]
#: hours in which the changes above happen, local time
DST_HOURS = [1, 2]


@st.composite
def cron_field(draw: st.DrawFn, name: str) -> tuple[str, set[int], bool]:
    """A field's text, the values it stands for, and whether it starts with a star."""
    low, high = FIELD_RANGES[name]
    kinds = ["star", "star_step", "list", "range_step"]
    if name in ("dom", "month", "dow"):
        kinds.append("star")  # mostly every day, so DST days come up often
    kind = draw(st.sampled_from(kinds))
    if kind == "star":
        return "*", set(range(low, high + 1)), True
    if kind == "star_step":
        step = draw(st.integers(1, high - low + 1))
        return f"*/{step}", set(range(low, high + 1, step)), True
    if kind == "list":
        value = (
            st.sampled_from(DST_HOURS)
            if name == "hour" and draw(st.booleans())
            else st.integers(low, high)
        )
        values = draw(st.lists(value, min_size=1, max_size=4, unique=True))
        return ",".join(map(str, values)), set(values), False
    start = draw(st.integers(low, high))
    end = draw(st.integers(start, high))
    step = draw(st.integers(1, high - low + 1))
    return f"{start}-{end}/{step}", set(range(start, end + 1, step)), False


@st.composite
def cron_case(draw: st.DrawFn) -> tuple[str, list[set[int]], bool, bool]:
    fields = [draw(cron_field(name)) for name in FIELD_RANGES]
    # keep most expressions firing often enough to brute-force the gap between fires
    if draw(st.booleans()):
        fields[3] = ("*", set(range(1, 13)), True)
    expr = " ".join(f[0] for f in fields)
    return expr, [f[1] for f in fields], fields[2][2], fields[4][2]


def oracle_fires(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    sets: list[set[int]],
    dom_star: bool,
    dow_star: bool,
) -> list[datetime]:
    """Fire times in (start, end], stepping UTC minutes: a minute fires when its wall time
    matches and is a first occurrence, or when it ends a gap holding a matching wall time."""
    minutes, hours, doms, months, dows = sets

    def matches(wall: datetime) -> bool:
        dom_ok, dow_ok = wall.day in doms, wall.isoweekday() % 7 in dows
        day_ok = dom_ok and dow_ok if dom_star or dow_star else dom_ok or dow_ok
        return wall.minute in minutes and wall.hour in hours and wall.month in months and day_ok

    found = []
    instant = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    previous_wall = (instant - timedelta(minutes=1)).astimezone(tz).replace(tzinfo=None)
    while instant <= end:
        wall_aware = instant.astimezone(tz)
        wall = wall_aware.replace(tzinfo=None)
        skipped = []
        probe = previous_wall + timedelta(minutes=1)
        while probe < wall:  # wall times jumped over: a spring-forward gap
            skipped.append(probe)
            probe += timedelta(minutes=1)
        if (wall_aware.fold == 0 and matches(wall)) or any(matches(s) for s in skipped):
            found.append(instant)
        previous_wall = wall
        instant += timedelta(minutes=1)
    return found


@settings(max_examples=200, deadline=None)
@given(
    case=cron_case(),
    zone_anchor=st.sampled_from(ZONE_ANCHORS),
    offset=st.integers(-2 * 24 * 3600, 24 * 3600),
    micro=st.integers(0, 999_999),
)
def test_next_and_previous_agree_with_brute_force(
    case: tuple[str, list[set[int]], bool, bool],
    zone_anchor: tuple[ZoneInfo, datetime],
    offset: int,
    micro: int,
) -> None:
    expr, sets, dom_star, dow_star = case
    tz, anchor = zone_anchor
    trigger = CronTrigger(expr, tz)
    t = anchor + timedelta(seconds=offset, microseconds=micro)
    following = trigger.next_fire(t)
    window_end = t + timedelta(hours=36)
    brute = oracle_fires(t, window_end, tz, sets, dom_star, dow_star)
    if following is None:
        assert brute == []
        return
    assert following > t
    assert following.tzinfo is UTC and following.second == 0 == following.microsecond
    assert trigger.previous_fire(following) == following
    # nothing fires strictly between t and next_fire(t); and next_fire is the oracle's first
    if following <= window_end:
        assert brute and brute[0] == following
    else:
        assert brute == []
    # previous_fire(t) is the latest fire <= t: a fire itself, with none after it up to t
    before = trigger.previous_fire(t)
    if before is not None and following - before < timedelta(days=365 * SEARCH_YEARS - 1):
        assert trigger.previous_fire(following - timedelta(microseconds=1)) == before
    if before is not None:
        assert before <= t
        assert trigger.next_fire(before) == following
        assert oracle_fires(
            before - timedelta(minutes=1), before, tz, sets, dom_star, dow_star
        ) == [before]
        if t - before <= timedelta(days=2):
            assert oracle_fires(before, t, tz, sets, dom_star, dow_star) == []


@settings(max_examples=100, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 59), min_size=1, max_size=3, unique=True),
    hours=st.lists(st.integers(0, 4), min_size=1, max_size=2, unique=True),
    zone_anchor=st.sampled_from(ZONE_ANCHORS[:6]),
    offset=st.integers(-26 * 3600, 3600),
)
def test_daily_times_around_dst_changes_agree_with_brute_force(
    minutes: list[int], hours: list[int], zone_anchor: tuple[ZoneInfo, datetime], offset: int
) -> None:
    tz, anchor = zone_anchor
    trigger = CronTrigger(f"{','.join(map(str, minutes))} {','.join(map(str, hours))} * * *", tz)
    t = anchor + timedelta(seconds=offset)
    sets = [set(minutes), set(hours), set(range(1, 32)), set(range(1, 13)), set(range(7))]
    expected = oracle_fires(t, t + timedelta(days=2), tz, sets, True, True)
    assert fires(trigger, t, len(expected)) == expected
    assert [trigger.previous_fire(e) for e in expected] == expected
