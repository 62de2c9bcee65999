"""Config sections of the SOP engine: quiet hours, missed runs, briefing content, the FAQ."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.durations import Duration
from bot.config.fields import Section, Text, fail

_QUIET = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def check_clock(value: str, key: str) -> str:
    if not _CLOCK.match(value.strip()):
        raise fail(key, f"expected a time of day like 20:00 (got {value!r})")
    return value.strip()


class SopConfig(Section):
    """How the engine carries the SOPs out."""

    #: DMs to members inside these local hours wait until they end (deferred, never dropped);
    #: "off" for none
    quiet_hours: Text = "22:00-08:00"
    #: a schedule missed while the bot was down still goes out if the bot is back within this
    missed_run_grace: Duration = timedelta(hours=1)
    #: a folder of dated briefing files (2026-11-21.md or .yaml), relative to the config file
    content_dir: Text | None = None

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_syntax(cls, value: str) -> str:
        if value.lower() in ("off", "none"):
            return "off"
        if not _QUIET.match(value):
            raise fail("quiet_hours", f'expected "22:00-08:00" or "off" (got {value!r})')
        return value


class FaqItem(Section):
    """An operator-maintained question and its answer (used when a question waits too long)."""

    q: Text = Field(max_length=500)
    a: Text = Field(max_length=3000)
