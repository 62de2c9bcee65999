"""Config section ``broadcasts:``: pacing, progress, quiet hours and the A/B report window."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from bot.config.durations import Duration
from bot.config.fields import Int, Section


class BroadcastsConfig(Section):
    """Segmented broadcasts (``/broadcast``)."""

    #: the A/B report goes to the team chat this long after the broadcast started
    ab_window: Duration = timedelta(hours=48)
    #: the progress message is edited at most this often (it changes only when counts do)
    progress_every: Duration = Field(default=timedelta(seconds=5), ge=timedelta(seconds=2))
    #: copies of one broadcast kept in the outbox ahead of the sender (about 5 s at 30 msg/s):
    #: other messages wait at most that long behind a broadcast, and after Cancel at most this
    #: many copies (those the sender already holds) still go
    backlog: Int = Field(default=150, ge=10, le=1000)
    #: an operator's broadcast goes at once by default; ``true`` holds it (queued, not sent)
    #: while the community's quiet hours (sop.quiet_hours) last
    respect_quiet_hours: bool = False
