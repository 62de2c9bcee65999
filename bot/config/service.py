"""The member service desk (``service:``): private messages answered by FAQ or by a person."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.durations import Duration
from bot.config.fields import Section, Text, fail
from sop.faq import DEFAULT_THRESHOLD
from sop.office_hours import OfficeHours, OfficeHoursError

__all__ = ["DEFAULT_FAQ_THRESHOLD", "ServiceConfig"]

#: the least FAQ similarity answered automatically in private (higher than the matcher's own
#: 0.45: a wrong automatic answer to a member costs more than a relay)
DEFAULT_FAQ_THRESHOLD = 0.6


class ServiceConfig(Section):
    """How members' private messages are answered."""

    #: a private message whose best FAQ match scores at least this is answered at once (the
    #: matcher itself finds nothing under its own 0.45)
    faq_threshold: float = Field(default=DEFAULT_FAQ_THRESHOLD, ge=DEFAULT_THRESHOLD, le=1)
    #: the first-response SLA of a private conversation (default: ``first_response.within``)
    within: Duration | None = None
    #: an answered conversation with no word from the member for this long closes itself
    autoclose: Duration = timedelta(hours=24)
    #: office hours (``mon-fri 09:00-21:00``), local; outside them messages are still relayed,
    #: the member is told when a person answers, the clock counts office time only
    hours: Text | None = None
    #: a member holding one of these tags is routed to this role of ``team.roles``
    vip: dict[Text, Text] = Field(default_factory=dict)
    #: the member sees which operator answers them (a short note before the first answer)
    operator_names: bool = False
    enabled: bool = True

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo

        try:  # the zone does not change what parses
            OfficeHours.parse(value, ZoneInfo("UTC"))
        except OfficeHoursError as error:
            raise fail("hours", str(error)) from None
        return value
