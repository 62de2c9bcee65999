"""The first-response clock of private conversations, in office time (``service.hours``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import CommunityConfig
from sop.office_hours import OfficeHours


class DeskClock:
    def __init__(self, config: CommunityConfig) -> None:
        self._within: timedelta = config.service.within or config.first_response.within
        hours = config.service.hours
        self._hours = OfficeHours.parse(hours, config.tz) if hours else None

    @property
    def within(self) -> timedelta:
        return self._within

    def deadline(self, since: datetime) -> datetime | None:
        """When a wait that began at ``since`` runs out of SLA (office time counted)."""
        if self._hours is None:
            return since + self._within
        return self._hours.deadline(since, self._within)

    def is_open(self, at: datetime) -> bool:
        return self._hours is None or self._hours.is_open(at)

    def opens_at(self, at: datetime) -> datetime | None:
        return at if self._hours is None else self._hours.next_open(at)

    def waited(self, since: datetime, until: datetime) -> timedelta:
        """How long a member waited, in office time."""
        if self._hours is None:
            return until - since
        return self._hours.office_time(since, until)
