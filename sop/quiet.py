"""Quiet hours: local wall times when members get no DMs; what falls in them waits, never drops.

Pure and wall-clock based: 22:00-08:00 means those times on the member-facing clock of the
community's timezone, whatever daylight saving does. The start is quiet, the end is not.
When the end falls into a spring-forward gap, quiet ends at the first valid instant after it; when
the clock falls back into quiet wall times, it is quiet again until the end comes round once more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sop.triggers import wall_to_utc

_RANGE = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})\s*[-–]\s*([0-9]{1,2}):([0-9]{2})\s*")


@dataclass(frozen=True)
class QuietHours:
    #: local wall time quiet starts (quiet from this minute on)
    start: time
    #: local wall time quiet ends (not quiet from this minute on); may be before ``start``
    #: (the period wraps past midnight); ``start == end`` means never quiet
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> QuietHours:
        """``"22:00-08:00"`` (24-hour ``HH:MM-HH:MM``)."""
        match = _RANGE.fullmatch(text)
        if match is None:
            raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM, e.g. 22:00-08:00")
        hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
        for hour, minute in ((hour1, minute1), (hour2, minute2)):
            if hour > 23 or minute > 59:
                raise ValueError(
                    f"quiet hours {text!r}: {hour:02d}:{minute:02d} is not a time "
                    f"of day (00:00-23:59)"
                )
        return cls(time(hour1, minute1), time(hour2, minute2), tz)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours take naive wall times; the zone is tz")

    def is_quiet(self, at: datetime) -> bool:
        wall = _aware(at, "at").astimezone(self.tz).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def defer(self, at: datetime) -> datetime:
        """``at`` (as UTC) when not quiet; else the end of this quiet period (aware UTC): the
        first instant from ``at`` on that is not quiet. Deferred, never dropped."""
        at = _aware(at, "at").astimezone(UTC)
        # once, or twice when a spring-forward gap swallowed the only non-quiet wall times
        for _ in range(3):
            if not self.is_quiet(at):
                return at
            at = self._end_of_period(at)
        return at

    def _end_of_period(self, at: datetime) -> datetime:
        local = at.astimezone(self.tz)
        end_day = local.date()
        if self.start > self.end and local.time() >= self.start:
            end_day += timedelta(days=1)  # 23:00 in 22:00-08:00 ends tomorrow morning
        wall = datetime.combine(end_day, self.end)
        ends = wall_to_utc(wall, self.tz)
        if ends <= at:
            # Fall back: the end's first occurrence is behind us and the clock came round to a
            # quiet wall time again; quiet ends at the end's second occurrence.
            ends = wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        return ends


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value
