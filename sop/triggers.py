"""Cron triggers: when a schedule fires, in its own timezone, daylight saving included.

Pure: an expression and a timezone in, fire times (aware UTC) out; the instant to look from is
always passed in. Our own small evaluator rather than APScheduler 3's ``CronTrigger``: that one
numbers weekdays from Monday even in ``from_crontab`` (its issue 286), ANDs day-of-month with
day-of-week, and cannot look backwards, which missed-run planning needs.

The expression is the standard five-field crontab (``minute hour day-of-month month day-of-week``)
with lists, ranges and steps (``*/15``, ``1-5``, ``mon-fri``, ``8-18/2``), names ``jan``..``dec``
and ``sun``..``sat``, day-of-week 0 or 7 = Sunday, and the macros ``@hourly``, ``@daily``,
``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``, ``@annually``.

Rules (those of Vixie cron / cronie, chosen so operators get what crontab taught them):

- **Day-of-month and day-of-week**: when both are restricted, a day matches either one
  (``0 8 1 * mon`` fires on the 1st *and* on Mondays). A field starting with ``*`` (``*``,
  ``*/2``) is unrestricted for this rule, and then both must match.
- **Spring forward** (a wall time that does not exist, e.g. 02:30 in New York on the second
  Sunday of March): the schedule fires at the first valid instant after the gap (03:00 local),
  like cron and APScheduler. Several times inside one gap fire once, at that instant.
- **Fall back** (a wall time that happens twice, e.g. 01:30 in New York on the first Sunday of
  November): it fires once, at the first occurrence. ``* 1 * * *`` fires 60 times that day, not 120.
"""

from __future__ import annotations

import calendar as _calendar
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

#: how far ``next_fire``/``previous_fire`` look: long enough for any date-and-weekday pairing
#: to come round again (a Sunday 1 January can be 11 years away; 29 February on a given
#: weekday up to 40 across 2100) — a property test found 10 too short
SEARCH_YEARS = 50

_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAY_NAMES = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NUMBER = re.compile(r"[0-9]+")


class CronError(ValueError):
    """A cron expression that cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int  # the highest value accepted as written (7 for day-of-week)
    span_high: int  # the highest value ``*`` stands for (6 for day-of-week)
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, 59, {}),
    _Field("hour", 0, 23, 23, {}),
    _Field("day-of-month", 1, 31, 31, {}),
    _Field("month", 1, 12, 12, _MONTH_NAMES),
    _Field("day-of-week", 0, 7, 6, _DAY_NAMES),
)


def wall_to_utc(wall: datetime, tz: tzinfo) -> datetime:
    """The instant a naive local wall time stands for in ``tz``, by the rules above.

    An ambiguous wall time (fall back) gives its first occurrence; one that does not exist
    (spring forward) gives the first instant after the gap, i.e. the transition itself.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall_to_utc wants a naive wall time")
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In a gap: fold=1 reads the wall time with the offset after the change (an instant before
    # the gap, whose wall time is earlier), fold=0 with the offset before it (an instant after
    # the gap, whose wall time is later). Find the transition between them, to the second.
    low = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)


class CronTrigger:
    """A crontab expression read in one timezone. Immutable; equal when expression and zone are."""

    __slots__ = (
        "_dom_star",
        "_doms",
        "_dow_star",
        "_dows",
        "_expr",
        "_minutes_of_day",
        "_months",
        "_tz",
    )

    def __init__(self, expr: str, tz: ZoneInfo) -> None:
        if not isinstance(tz, tzinfo):
            raise CronError(f"cron {expr!r}: timezone must be a ZoneInfo, got {tz!r}")
        self._expr = " ".join(str(expr).split())
        self._tz = tz
        texts = _MACROS.get(self._expr.lower(), self._expr).split()
        if self._expr.startswith("@") and self._expr.lower() not in _MACROS:
            raise CronError(f"cron {expr!r}: unknown macro; use one of {', '.join(_MACROS)}")
        if len(texts) != 5:
            raise CronError(
                f"cron {expr!r}: expected 5 fields (minute hour day-of-month month day-of-week), "
                f"got {len(texts)}"
            )
        minutes, hours, doms, months, dows = (
            _parse_field(text, field, expr) for text, field in zip(texts, _FIELDS, strict=True)
        )
        self._minutes_of_day = tuple(sorted(h * 60 + m for h in hours for m in minutes))
        self._doms = doms
        self._months = months
        self._dows = frozenset(d % 7 for d in dows)
        self._dom_star = texts[2].startswith("*")
        self._dow_star = texts[4].startswith("*")

    @property
    def expr(self) -> str:
        return self._expr

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def __repr__(self) -> str:
        return f"CronTrigger({self._expr!r}, {self._tz!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronTrigger):
            return NotImplemented
        return (self._expr, str(self._tz)) == (other._expr, str(other._tz))

    def __hash__(self) -> int:
        return hash((self._expr, str(self._tz)))

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after`` (aware UTC); None if none in
        :data:`SEARCH_YEARS` years, i.e. never."""
        after = _require_aware(after, "after")
        # a day early: around a fall back at midnight a local date can come round twice
        day = after.astimezone(self._tz).date() - timedelta(days=1)
        last = _add_years(day, SEARCH_YEARS)
        times = self._minutes_of_day
        while day <= last:
            if day.month not in self._months:
                day = _first_of_next_month(day)
                continue
            if self._day_matches(day):
                # wall times map to instants in order (see the module rules), so bisect works
                i = bisect_right(times, after, key=partial(self._instant, day))
                if i < len(times):
                    return self._instant(day, times[i])
            day += timedelta(days=1)
        return None

    def previous_fire(self, at_or_before: datetime) -> datetime | None:
        """The latest fire time ``<= at_or_before`` (aware UTC); None if none in
        :data:`SEARCH_YEARS` years back."""
        at = _require_aware(at_or_before, "at_or_before")
        day = at.astimezone(self._tz).date() + timedelta(days=1)
        first = _add_years(day, -SEARCH_YEARS)
        times = self._minutes_of_day
        while day >= first:
            if day.month not in self._months:
                day = day.replace(day=1) - timedelta(days=1)
                continue
            if self._day_matches(day):
                i = bisect_right(times, at, key=partial(self._instant, day))
                if i > 0:
                    return self._instant(day, times[i - 1])
            day -= timedelta(days=1)
        return None

    def never_fires(self, now: datetime) -> bool:
        """True when the expression names no real day from ``now`` on (``0 0 31 2 *``)."""
        return self.next_fire(now) is None

    def _day_matches(self, day: date) -> bool:
        dom = day.day in self._doms
        dow = day.isoweekday() % 7 in self._dows
        if self._dom_star or self._dow_star:
            return dom and dow
        return dom or dow

    def _instant(self, day: date, minute_of_day: int) -> datetime:
        hour, minute = divmod(minute_of_day, 60)
        wall = datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001  a wall time
        return wall_to_utc(wall, self._tz)


def _parse_field(text: str, field: _Field, expr: str) -> frozenset[int]:
    where = f"cron {expr!r}: {field.name} field {text!r}"
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise CronError(f"{where}: empty item in the list")
        body, has_step, step_text = item.partition("/")
        step = 1
        if has_step:
            if not _NUMBER.fullmatch(step_text) or int(step_text) == 0:
                raise CronError(f"{where}: step {step_text!r} must be a positive whole number")
            step = int(step_text)
            if step > field.span_high - field.low + 1:
                raise CronError(
                    f"{where}: step {step} is larger than the field's range "
                    f"{field.low}-{field.span_high}"
                )
        if body == "*":
            low, high = field.low, field.span_high
        elif "-" in body:
            start, _, end = body.partition("-")
            low, high = _value(start, field, where), _value(end, field, where)
            if field.name == "day-of-week" and high == 0 < low:
                high = 7  # fri-sun: Sunday as the end of the week
            if low > high:
                raise CronError(f"{where}: range {body!r} runs backwards")
        else:
            low = _value(body, field, where)
            high = field.span_high if has_step else low  # 5/10: from 5 on, every 10
        values.update(range(low, high + 1, step))
    return frozenset(values)


def _value(token: str, field: _Field, where: str) -> int:
    if _NUMBER.fullmatch(token):
        value = int(token)
        if not field.low <= value <= field.high:
            raise CronError(f"{where}: {value} is out of range {field.low}-{field.high}")
        return value
    if token.lower() in field.names:
        return field.names[token.lower()]
    if field.names:
        examples = ", ".join(list(field.names)[:3])
        raise CronError(
            f"{where}: unknown value {token!r} (a number {field.low}-{field.high} "
            f"or a name such as {examples})"
        )
    raise CronError(f"{where}: {token!r} is not a number {field.low}-{field.high}")


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _add_years(day: date, years: int) -> date:
    year = min(max(day.year + years, 1), 9999)
    return date(year, day.month, min(day.day, _calendar.monthrange(year, day.month)[1]))
