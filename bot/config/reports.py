"""Config sections ``reports:`` (daily and weekly reports to the team chat) and ``alerts:``
(anomaly thresholds)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import Field, field_validator

from bot.config.durations import Duration
from bot.config.fields import Int, Section, Text
from bot.config.moderation import AlertKeywords
from bot.config.sop import check_clock

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def _clock_time(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


class DailyReportConfig(Section):
    """Yesterday's KPIs, what the SOP sent, open questions past the SLA, failed deliveries."""

    enabled: bool = True
    #: local time of day
    at: Text = "09:00"

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        return check_clock(value, "at")

    @property
    def time(self) -> time:
        return _clock_time(self.at)


class WeeklyReportConfig(DailyReportConfig):
    """The week's funnel by source, tag movements, coupon conversion, best/worst broadcasts."""

    day: Weekday = "friday"
    at: Text = "17:00"

    @field_validator("day", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def weekday(self) -> int:
        """Monday is 0, as ``date.weekday()``."""
        return WEEKDAYS.index(self.day)


class ReportsConfig(Section):
    daily: DailyReportConfig = Field(default_factory=DailyReportConfig)
    weekly: WeeklyReportConfig = Field(default_factory=WeeklyReportConfig)


class AlertsConfig(Section):
    """Anomaly alerts to the team chat: each condition once, not a storm."""

    enabled: bool = True
    #: a day-on-day fall of joins or active members by more than this share (0.5 = 50%)
    drop: float = Field(default=0.5, gt=0, lt=1)
    #: ...counted only when the day before had at least this many (2 → 0 is not an anomaly)
    drop_min_base: Int = Field(default=10, ge=1)
    #: failed deliveries over sent + failed in the last ``delivery_window`` (blocked members
    #: are not failures)
    delivery_failure_rate: float = Field(default=0.1, gt=0, le=1)
    delivery_window: Duration = timedelta(hours=1)
    #: ...only once at least this many messages were settled in the window
    delivery_min: Int = Field(default=20, ge=1)
    #: a broadcast with no progress for this long is stuck
    broadcast_stuck: Duration = timedelta(minutes=15)
    #: an alert that cleared is raised again only this long after it was last raised
    repeat_after: Duration = timedelta(hours=6)
    #: how often the conditions are looked at
    check_every: Duration = Field(default=timedelta(minutes=5), ge=timedelta(minutes=1))
    #: complaint and crisis words: a plain list is the level complaint; a mapping
    #: ``complaint`` / ``dispute`` / ``incident`` → words
    keywords: AlertKeywords = Field(default_factory=dict)
    #: complaints from this many different members in one community within
    #: ``incident_window`` are one incident (one alert, not many)
    incident_members: Int = Field(default=3, ge=2)
    incident_window: Duration = timedelta(minutes=10)
    #: the time to resolve (complaint, dispute) or answer (incident); unclaimed past half of
    #: it, the team is told again
    complaint_within: Duration = timedelta(hours=2)
    dispute_within: Duration = timedelta(hours=2)
    incident_within: Duration = timedelta(hours=1)
