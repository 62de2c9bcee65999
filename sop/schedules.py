"""Which scheduled runs to carry out now, which were missed, and when to look again.

Pure: the schedules, what is already done (the caller keeps that in the database) and ``now`` in;
a :class:`Plan` out. The scheduler only wakes us; the truth of what is due is computed here.

Never twice: a run is identified by ``(schedule id, fire time)``. The caller records every run it
gets back — due (carried out) or missed (reported) — in ``done`` before it plans again, so a
restart, or two restarts inside the grace window, finds the run done and plans nothing for it.
Only a schedule's latest fire time is looked at: a bot down for a day sends this morning's
briefing late (within the grace) or reports it missed, and says nothing of yesterday's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sop.triggers import CronTrigger


@dataclass(frozen=True)
class ScheduleSpec:
    """What the engine needs of a configured schedule."""

    id: str
    trigger: CronTrigger
    #: the config's ``enabled`` and not paused by an operator
    enabled: bool = True


@dataclass(frozen=True)
class Run:
    schedule_id: str
    #: the cron time this run is for (aware UTC)
    fire_at: datetime
    #: ``now - fire_at`` when it is carried out (zero when on time)
    late_by: timedelta


@dataclass(frozen=True)
class Plan:
    #: carry these out now, each exactly once (oldest first)
    due: tuple[Run, ...]
    #: past the grace window: do not carry out, report once (oldest first)
    missed: tuple[Run, ...]
    #: the earliest next fire time of any enabled schedule (None: nothing will ever fire)
    next_check: datetime | None


def plan_runs(
    schedules: Sequence[ScheduleSpec],
    *,
    done: Collection[tuple[str, datetime]],
    now: datetime,
    grace: timedelta,
    since: datetime | None = None,
) -> Plan:
    """Plans the runs at ``now``.

    For each enabled schedule, its latest fire time ``f <= now``: nothing if ``(id, f)`` is in
    ``done`` (aware datetimes; compared as instants) or ``f < since``; due if
    ``now - f <= grace``; missed otherwise. Paused schedules plan nothing, not even missed runs.
    ``since`` is typically when the schedule was first seen, so last night's fire of a schedule
    installed this morning is not reported as missed.
    """
    now = _aware_utc(now, "now")
    since = None if since is None else _aware_utc(since, "since")
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    seen: set[str] = set()
    due: list[Run] = []
    missed: list[Run] = []
    upcoming: list[datetime] = []
    for schedule in schedules:
        if schedule.id in seen:
            raise ValueError(f"schedule id {schedule.id!r} appears twice")
        seen.add(schedule.id)
        if not schedule.enabled:
            continue
        following = schedule.trigger.next_fire(now)
        if following is not None:
            upcoming.append(following)
        fired = schedule.trigger.previous_fire(now)
        if fired is None or (since is not None and fired < since):
            continue
        if (schedule.id, fired) in done:
            continue
        run = Run(schedule.id, fired, now - fired)
        (due if run.late_by <= grace else missed).append(run)
    order = _run_order
    return Plan(
        tuple(sorted(due, key=order)), tuple(sorted(missed, key=order)), min(upcoming, default=None)
    )


def calendar(
    schedules: Sequence[ScheduleSpec], start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """Every fire time in ``[start, end)`` of the enabled schedules, with the schedule id, sorted
    (by time, then id). What ``sopbot simulate`` prints."""
    start = _aware_utc(start, "start")
    end = _aware_utc(end, "end")
    fires: list[tuple[datetime, str]] = []
    for schedule in schedules:
        if not schedule.enabled:
            continue
        # fire times are whole minutes, so "strictly after a hair before start" includes start
        fire = schedule.trigger.next_fire(start - timedelta(microseconds=1))
        while fire is not None and fire < end:
            fires.append((fire, schedule.id))
            fire = schedule.trigger.next_fire(fire)
    fires.sort()
    return fires


def _run_order(run: Run) -> tuple[datetime, str]:
    return run.fire_at, run.schedule_id


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)
