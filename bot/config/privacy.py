"""Config section ``privacy:`` (issue 15): the notice, consent, retention, the copy review."""

from __future__ import annotations

from pydantic import Field

from bot.config.durations import Duration
from bot.config.fields import Int, Section, Text
from sop.review import ABSOLUTE_TERMS


class PrivacyConfig(Section):
    """What members are told, what waits for their consent, how long identities are kept."""

    #: the first DM a member gets carries the short notice (``privacy_notice``) pointing to
    #: ``/privacy``
    notice: bool = True
    #: raise it when the ``/privacy`` text changes materially: members are told again
    notice_version: Int = Field(default=1, ge=1)
    #: marketing DMs (the gift pack, win-back, broadcasts, a schedule's DMs to a segment, Q&A
    #: reminders, coupons sent by operators) wait until the member presses "Agree"
    require_consent: bool = False
    #: members gone or silent longer than this are pseudonymised by the daily pass (unset: kept)
    retention: Duration | None = None
    #: the audit log's entries (team commands, exports, erasures) older than this are deleted
    #: by the same daily pass (unset: kept)
    audit_retention: Duration | None = None
    #: the moderation log's actions (deletions, warnings, mutes, bans, join checks) older than
    #: this are deleted by the daily pass (unset: kept); warnings older than
    #: ``moderation.warnings_expire`` no longer count anyway
    moderation_log_retention: Duration | None = None
    #: the copy review of broadcasts (their preview lists what it finds): words found warn (Send
    #: asks a second confirmation); ``review_block`` words disable Send for that text
    review_words: list[Text] = Field(default_factory=lambda: list(ABSOLUTE_TERMS))
    review_block: list[Text] = Field(default_factory=list)


class BackupConfig(Section):
    """The daily SQLite backup (``sopbot backup`` makes one at any time, on either database)."""

    #: a copy of the SQLite file once a day (the online backup API), next to it unless
    #: ``folder`` is set; PostgreSQL: use ``sopbot backup`` (pg_dump) from cron
    daily: bool = False
    #: the newest this many daily backups are kept
    keep: Int = Field(default=7, ge=1, le=366)
    #: where they go (relative to the database file's folder); default: beside it
    folder: Text | None = None
