"""Office hours of the service desk (``service.hours``), and the clock that counts only them.

Written as operators say it: ``mon-fri 09:00-21:00``, several spans joined by commas
(``mon-fri 09:00-21:00, sat 10:00-16:00``), a day range or a single day (``sun``), ``daily`` for
every day. A span whose end is before its start runs past midnight into the next day. Times are
local wall times in the community's zone; a span's instants are taken with ``fold=0`` (the
first of a repeated hour; a wall time in a spring-forward gap lands just after it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["OfficeHours", "OfficeHoursError"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^(?:(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?|(?P<daily>daily))\s+"
    r"(?P<sh>[01]?\d|2[0-3]):(?P<sm>[0-5]\d)\s*-\s*(?P<eh>[01]?\d|2[0-4]):(?P<em>[0-5]\d)$"
)
#: how far ahead the clock looks for office time (an SLA longer than this never ends)
_HORIZON_DAYS = 400


class OfficeHoursError(ValueError):
    """Office hours that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class _Span:
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    #: minutes from ``start`` to the end (at most a day)
    length: timedelta


@dataclass(frozen=True)
class OfficeHours:
    spans: tuple[_Span, ...]
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> OfficeHours:
        spans = []
        for part in text.lower().split(","):
            match = _SPAN.match(part.strip())
            if match is None:
                raise OfficeHoursError(
                    f'expected spans like "mon-fri 09:00-21:00" or "daily 10:00-18:00", '
                    f"joined by commas (got {part.strip()!r})"
                )
            if match["daily"]:
                days = frozenset(range(7))
            else:
                first, last = match["first"], match["last"] or match["first"]
                if first not in _DAYS or last not in _DAYS:
                    bad = first if first not in _DAYS else last
                    raise OfficeHoursError(
                        f"unknown day {bad!r}; use mon, tue, wed, thu, fri, sat, sun"
                    )
                a, b = _DAYS.index(first), _DAYS.index(last)
                days = frozenset((a + i) % 7 for i in range((b - a) % 7 + 1))
            start = int(match["sh"]) * 60 + int(match["sm"])
            end = int(match["eh"]) * 60 + int(match["em"])
            if end > 24 * 60:
                raise OfficeHoursError(f"{match['eh']}:{match['em']} is not a time of day")
            if start == end:
                raise OfficeHoursError(f"the span {part.strip()!r} is empty (start = end)")
            length = end - start if end > start else 24 * 60 - start + end
            spans.append(_Span(days, time(start // 60, start % 60), timedelta(minutes=length)))
        return cls(tuple(spans), tz)

    def _intervals(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (aware UTC) ending after ``since``, in order, merged when they meet."""
        local_day = since.astimezone(self.tz).date() - timedelta(days=1)
        pending: tuple[datetime, datetime] | None = None
        for offset in range(_HORIZON_DAYS + 2):
            day = local_day + timedelta(days=offset)
            for opens, closes in sorted(self._day_intervals(day)):
                if closes <= since:
                    continue
                if pending is not None and opens <= pending[1]:
                    pending = (pending[0], max(pending[1], closes))
                    continue
                if pending is not None:
                    yield pending
                pending = (opens, closes)
        if pending is not None:
            yield pending

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        out = []
        for span in self.spans:
            if day.weekday() not in span.weekdays:
                continue
            opens = _instant(datetime.combine(day, span.start), self.tz)
            closes = _instant(datetime.combine(day, span.start) + span.length, self.tz)
            out.append((opens, closes))
        return out

    def is_open(self, at: datetime) -> bool:
        return any(opens <= at for opens, _ in self._first(at))

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` itself when open; else when the office opens next (``None``: never)."""
        for opens, _ in self._first(at):
            return max(opens, at)
        return None

    def deadline(self, start: datetime, within: timedelta) -> datetime | None:
        """The instant ``within`` of office time after ``start`` (``None``: never)."""
        left = within
        for opens, closes in self._intervals(start):
            begin = max(opens, start)
            if closes - begin >= left:
                return begin + left
            left -= closes - begin
        return None

    def office_time(self, start: datetime, end: datetime) -> timedelta:
        """Office time between two instants."""
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._intervals(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def _first(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        for interval in self._intervals(at):
            yield interval
            return


def _instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall time as an aware UTC instant (``fold=0``: a wall time in a
    spring-forward gap is read with the offset before it, which lands after the gap)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
