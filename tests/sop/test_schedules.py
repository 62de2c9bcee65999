"""Planning scheduled runs: a simulated week on a virtual clock, missed-run grace, never twice
across restarts, install time, pauses, the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop.clock import ManualClock
from sop.schedules import Plan, Run, ScheduleSpec, calendar, plan_runs
from sop.triggers import CronTrigger

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def daily(tz: ZoneInfo) -> list[ScheduleSpec]:
    return [
        ScheduleSpec("briefing", CronTrigger("0 8 * * *", tz)),
        ScheduleSpec("qa", CronTrigger("0 20 * * *", tz)),
    ]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def run_week(schedules: list[ScheduleSpec], clock: ManualClock, days: int = 7) -> list[Run]:
    """The engine's loop: plan, carry out (record as done), sleep until next_check."""
    done: set[tuple[str, datetime]] = set()
    carried: list[Run] = []
    start = clock.now()
    end = start + timedelta(days=days)
    while True:
        plan = plan_runs(schedules, done=done, now=clock.now(), grace=HOUR, since=start)
        assert plan.missed == ()
        for run in plan.due:
            done.add((run.schedule_id, run.fire_at))
            carried.append(run)
        assert plan.next_check is not None and plan.next_check > clock.now()
        if plan.next_check >= end:
            return carried
        clock.set(plan.next_check)


# --- a simulated week ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Asia/Shanghai: UTC+8 all year, 08:00 -> 00:00Z, 20:00 -> 12:00Z
        (
            SHANGHAI,
            utc(2025, 3, 5, 16),
            [(utc(2025, 3, 6 + d, 0), "briefing") for d in range(7)]
            + [(utc(2025, 3, 6 + d, 12), "qa") for d in range(7)],
        ),
        # America/New_York: EST (-5) until Sunday 9 March 2025 02:00, then EDT (-4)
        (
            NEW_YORK,
            utc(2025, 3, 6, 5),
            [
                (utc(2025, 3, 6, 13), "briefing"),
                (utc(2025, 3, 7, 1), "qa"),
                (utc(2025, 3, 7, 13), "briefing"),
                (utc(2025, 3, 8, 1), "qa"),
                (utc(2025, 3, 8, 13), "briefing"),
                (utc(2025, 3, 9, 1), "qa"),  # Sat 20:00 EST
                (utc(2025, 3, 9, 12), "briefing"),
                (utc(2025, 3, 10, 0), "qa"),  # Sun, EDT now
                (utc(2025, 3, 10, 12), "briefing"),
                (utc(2025, 3, 11, 0), "qa"),
                (utc(2025, 3, 11, 12), "briefing"),
                (utc(2025, 3, 12, 0), "qa"),
                (utc(2025, 3, 12, 12), "briefing"),
                (utc(2025, 3, 13, 0), "qa"),
            ],
        ),
        # Europe/Berlin: CEST (+2) until Sunday 26 October 2025 03:00, then CET (+1)
        (
            BERLIN,
            utc(2025, 10, 22, 22),
            [
                (utc(2025, 10, 23, 6), "briefing"),
                (utc(2025, 10, 23, 18), "qa"),
                (utc(2025, 10, 24, 6), "briefing"),
                (utc(2025, 10, 24, 18), "qa"),
                (utc(2025, 10, 25, 6), "briefing"),
                (utc(2025, 10, 25, 18), "qa"),
                (utc(2025, 10, 26, 7), "briefing"),
                (utc(2025, 10, 26, 19), "qa"),  # Sun, CET now
                (utc(2025, 10, 27, 7), "briefing"),
                (utc(2025, 10, 27, 19), "qa"),
                (utc(2025, 10, 28, 7), "briefing"),
                (utc(2025, 10, 28, 19), "qa"),
                (utc(2025, 10, 29, 7), "briefing"),
                (utc(2025, 10, 29, 19), "qa"),
            ],
        ),
    ],
)
def test_a_simulated_week_sends_at_exact_times(
    tz: ZoneInfo, start: datetime, expected: list[tuple[datetime, str]]
) -> None:
    schedules = daily(tz)
    carried = run_week(schedules, ManualClock(start))
    assert sorted((r.fire_at, r.schedule_id) for r in carried) == sorted(expected)
    assert all(r.late_by == timedelta(0) for r in carried)
    # every one at 08:00 or 20:00 on the community's own clock
    assert {r.fire_at.astimezone(tz).strftime("%H:%M") for r in carried} == {"08:00", "20:00"}
    # the calendar (`sopbot simulate`) says the same, from the same code
    assert calendar(schedules, start, start + timedelta(days=7)) == sorted(expected)


def test_ticking_every_minute_also_sends_each_run_once_on_time() -> None:
    clock = ManualClock(utc(2025, 3, 6, 5))
    schedules = daily(NEW_YORK)
    done: set[tuple[str, datetime]] = set()
    sent: list[Run] = []
    for _ in range(7 * 24 * 60):
        plan = plan_runs(
            schedules, done=done, now=clock.now(), grace=HOUR, since=utc(2025, 3, 6, 5)
        )
        assert plan.missed == ()
        done.update((r.schedule_id, r.fire_at) for r in plan.due)
        sent.extend(plan.due)
        clock.advance(minutes=1)
    assert len(sent) == 14 and len(done) == 14
    assert all(r.late_by == timedelta(0) for r in sent)


# --- missed runs and the grace window -----------------------------------------------------------

EIGHT = utc(2025, 6, 2, 0)  # 08:00 in Shanghai, Monday
SINCE = EIGHT - 2 * HOUR  # installed at 06:00, after last night's Q&A
LONG_AGO = utc(2025, 5, 1)


def test_back_within_the_grace_window_sends_once_late() -> None:
    schedules = daily(SHANGHAI)
    plan = plan_runs(
        schedules, done=set(), now=EIGHT + timedelta(minutes=40), grace=HOUR, since=SINCE
    )
    assert plan.due == (Run("briefing", EIGHT, timedelta(minutes=40)),)
    assert plan.missed == ()
    assert plan.next_check == utc(2025, 6, 2, 12)  # tonight's Q&A


def test_exactly_at_the_end_of_the_grace_window_is_still_due() -> None:
    plan = plan_runs(daily(SHANGHAI), done=set(), now=EIGHT + HOUR, grace=HOUR, since=SINCE)
    assert plan.due == (Run("briefing", EIGHT, HOUR),)


def test_back_after_the_grace_window_reports_it_missed_once() -> None:
    schedules = daily(SHANGHAI)
    done: set[tuple[str, datetime]] = set()
    now = EIGHT + timedelta(minutes=90)
    plan = plan_runs(schedules, done=done, now=now, grace=HOUR, since=SINCE)
    assert plan.due == ()
    assert plan.missed == (Run("briefing", EIGHT, timedelta(minutes=90)),)
    done.update((r.schedule_id, r.fire_at) for r in plan.missed)
    for later in (now + timedelta(minutes=1), now + HOUR):
        again = plan_runs(schedules, done=done, now=later, grace=HOUR, since=SINCE)
        assert again.due == () and again.missed == ()


def test_two_restarts_within_the_window_send_once() -> None:
    schedules = daily(SHANGHAI)
    database: set[tuple[str, datetime]] = set()  # survives restarts; process memory does not
    sent: list[Run] = []
    for restart_at in (
        EIGHT + timedelta(minutes=10),
        EIGHT + timedelta(minutes=25),
        EIGHT + timedelta(minutes=50),
    ):
        plan = plan_runs(
            schedules, done=frozenset(database), now=restart_at, grace=HOUR, since=SINCE
        )
        assert plan.missed == ()
        database.update((r.schedule_id, r.fire_at) for r in plan.due)
        sent.extend(plan.due)
    assert sent == [Run("briefing", EIGHT, timedelta(minutes=10))]


def test_only_the_latest_fire_counts() -> None:
    # down from Sunday 07:00 to Monday 08:40: Sunday's briefing is history (not reported),
    # Monday's goes out late, Sunday night's Q&A (the Q&A's latest fire) is reported missed
    plan = plan_runs(
        daily(SHANGHAI), done=set(), now=EIGHT + timedelta(minutes=40), grace=HOUR, since=LONG_AGO
    )
    assert plan == Plan(
        due=(Run("briefing", EIGHT, timedelta(minutes=40)),),
        missed=(Run("qa", EIGHT - timedelta(hours=12), timedelta(hours=12, minutes=40)),),
        next_check=utc(2025, 6, 2, 12),
    )


def test_since_suppresses_fires_before_install() -> None:
    installed = EIGHT - timedelta(hours=2)  # 06:00: last night's Q&A came before us
    plan = plan_runs(daily(SHANGHAI), done=set(), now=EIGHT - HOUR, grace=HOUR, since=installed)
    assert plan.due == () and plan.missed == ()
    plan = plan_runs(
        daily(SHANGHAI), done=set(), now=EIGHT + timedelta(minutes=5), grace=HOUR, since=installed
    )
    assert plan.due == (Run("briefing", EIGHT, timedelta(minutes=5)),)
    assert plan.missed == ()
    # a fire exactly at the install time is not before it
    plan = plan_runs(daily(SHANGHAI), done=set(), now=EIGHT, grace=HOUR, since=EIGHT)
    assert plan.due == (Run("briefing", EIGHT, timedelta(0)),)


def test_paused_plans_nothing_and_reports_nothing() -> None:
    briefing, qa = daily(SHANGHAI)
    paused = ScheduleSpec(briefing.id, briefing.trigger, enabled=False)
    for now in (EIGHT, EIGHT + timedelta(minutes=40), EIGHT + 3 * HOUR):
        plan = plan_runs([paused, qa], done=set(), now=now, grace=HOUR, since=EIGHT - HOUR)
        assert plan.due == () and plan.missed == ()
        assert plan.next_check == utc(2025, 6, 2, 12)  # only the Q&A is looked out for
    assert plan_runs([paused], done=set(), now=EIGHT, grace=HOUR).next_check is None
    assert calendar([paused, qa], EIGHT, EIGHT + timedelta(days=1)) == [(utc(2025, 6, 2, 12), "qa")]


def test_done_is_compared_as_instants_whatever_the_zone() -> None:
    local_eight = EIGHT.astimezone(SHANGHAI)
    plan = plan_runs(
        daily(SHANGHAI),
        done={("briefing", local_eight)},
        now=EIGHT + timedelta(minutes=5),
        grace=HOUR,
        since=SINCE,
    )
    assert plan.due == ()


def test_due_and_missed_come_oldest_first() -> None:
    tz = SHANGHAI
    schedules = [
        ScheduleSpec("b", CronTrigger("0 8 * * *", tz)),
        ScheduleSpec("a", CronTrigger("0 8 * * *", tz)),
        ScheduleSpec("c", CronTrigger("30 7 * * *", tz)),
    ]
    plan = plan_runs(
        schedules, done=set(), now=EIGHT + timedelta(minutes=5), grace=HOUR, since=LONG_AGO
    )
    assert [(r.schedule_id, r.fire_at) for r in plan.due] == [
        ("c", EIGHT - timedelta(minutes=30)),
        ("a", EIGHT),
        ("b", EIGHT),
    ]


def test_bad_arguments() -> None:
    schedules = daily(SHANGHAI)
    with pytest.raises(ValueError, match="aware"):
        naive = datetime(2025, 6, 2)  # noqa: DTZ001  naive on purpose: it must be refused
        plan_runs(schedules, done=set(), now=naive, grace=HOUR)
    with pytest.raises(ValueError, match="negative"):
        plan_runs(schedules, done=set(), now=EIGHT, grace=-HOUR)
    with pytest.raises(ValueError, match="'briefing' appears twice"):
        plan_runs(schedules + schedules[:1], done=set(), now=EIGHT, grace=HOUR)


def test_a_schedule_that_never_fires_plans_nothing() -> None:
    never = ScheduleSpec("never", CronTrigger("0 0 31 2 *", SHANGHAI))
    plan = plan_runs([never], done=set(), now=EIGHT, grace=HOUR)
    assert plan == Plan((), (), None)
    assert calendar([never], EIGHT, EIGHT + timedelta(days=400)) == []


def test_calendar_is_half_open_and_sorted() -> None:
    schedules = daily(SHANGHAI)
    got = calendar(schedules, EIGHT, EIGHT + timedelta(days=1))
    assert got == [(EIGHT, "briefing"), (utc(2025, 6, 2, 12), "qa")]
    assert calendar(schedules, EIGHT + timedelta(microseconds=1), EIGHT + timedelta(days=1)) == [
        (utc(2025, 6, 2, 12), "qa")
    ]
    assert calendar(schedules, EIGHT, EIGHT) == []


# --- never twice, whatever the restarts ---------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    checks=st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=30),
    grace_minutes=st.integers(0, 180),
)
def test_each_fire_is_planned_at_most_once_across_restarts(
    checks: list[int], grace_minutes: int
) -> None:
    """The bot wakes (or restarts) at arbitrary minutes; each (schedule, fire) comes back at most
    once, as due or as missed, and due ones are within the grace."""
    schedules = [*daily(NEW_YORK), ScheduleSpec("often", CronTrigger("*/45 7-9 * * *", NEW_YORK))]
    start = utc(2025, 3, 7, 12)
    grace = timedelta(minutes=grace_minutes)
    done: set[tuple[str, datetime]] = set()
    seen: list[tuple[str, datetime]] = []
    for minute in sorted(checks):
        now = start + timedelta(minutes=minute)
        plan = plan_runs(schedules, done=done, now=now, grace=grace, since=start)
        for run in plan.due:
            assert run.late_by == now - run.fire_at and timedelta(0) <= run.late_by <= grace
        for run in plan.missed:
            assert run.late_by > grace
        for run in (*plan.due, *plan.missed):
            assert run.fire_at >= start
            seen.append((run.schedule_id, run.fire_at))
            done.add((run.schedule_id, run.fire_at))
    assert len(seen) == len(set(seen))
