"""Config section ``moderation:`` (top level, and per community under ``communities[]``) and the
complaint words of ``alerts.keywords``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from bot.config.durations import Duration
from bot.config.fields import Int, Section, Text, fail
from sop.moderation import ALERT_LEVELS

AlertLevel = Literal["complaint", "dispute", "incident"]


def _levels(value: Any) -> Any:
    """A plain list is the level ``complaint``; a mapping names its levels."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {"complaint": value}
    if isinstance(value, dict):
        unknown = [k for k in value if k not in ALERT_LEVELS]
        if unknown:
            raise fail(
                "alert_level",
                f"unknown level {unknown[0]!r}; the levels are {', '.join(ALERT_LEVELS)}",
            )
    return value


AlertKeywords = Annotated[dict[AlertLevel, list[Text]], BeforeValidator(_levels)]


class ModerationConfig(Section):
    """What is deleted in a community, and what follows for the sender. Non-operators only;
    group administrators, anonymous admins and the linked channel are never touched."""

    #: ``enforce`` deletes and acts; ``report`` only tells the team what would have been done
    mode: Literal["enforce", "report"] = "enforce"
    #: matched as hook keywords are, and through their usual disguises
    banned_words: list[Text] = Field(default_factory=list)
    #: contact details (a WeChat id, a QQ or phone number) after a trigger word
    contacts: bool = True
    #: more trigger words for ``contacts`` (微信, QQ, 电话, whatsapp… are built in)
    contact_triggers: list[Text] = Field(default_factory=list)
    #: links (and forwards from chats) from members who joined less than this long ago
    newcomer_links: Duration | None = None
    #: each deletion is also a warning; warnings older than ``warnings_expire`` do not count
    warn: bool = True
    warnings_expire: Duration = timedelta(days=30)
    #: muted (``restrictChatMember``) for ``mute_for`` at this many warnings; 0: never
    mute_after: Int = Field(default=3, ge=0)
    mute_for: Duration = timedelta(days=1)
    #: banned at this many warnings; 0: never
    ban_after: Int = Field(default=5, ge=0)
    #: the member is told why, once per rule (by DM when reachable, else a notice in the group
    #: that deletes itself after ``notice_lasts``)
    tell_member: bool = True
    notice_lasts: Duration = timedelta(seconds=60)


#: Telegram lets a bot message a join requester only until the request is handled, and for five
#: minutes at most: a challenge cannot wait longer
LONGEST_CAPTCHA = timedelta(minutes=5)


class CaptchaConfig(Section):
    """Join protection of a community (off unless configured): a join request is asked by DM,
    a plain joiner is restricted and asked in the group; no right answer within ``within``
    declines the request or removes the member."""

    #: how long a newcomer has to answer (at most 5 minutes)
    within: Duration = timedelta(minutes=2)
    #: the group challenges of plain joins are batched like greetings: a challenge waits at most
    #: this long for others to share its message (the group's 20 messages a minute)
    group_batch: Duration = Field(default=timedelta(seconds=10), validate_default=True)
    #: newcomers mentioned in one group challenge
    max_mentions: Int = Field(default=20, ge=1, le=50)
    #: how many buttons the DM challenge of a join request shows (one of them is right)
    choices: Int = Field(default=4, ge=2, le=8)

    @field_validator("within")
    @classmethod
    def _within_five_minutes(cls, value: timedelta) -> timedelta:
        if value > LONGEST_CAPTCHA:
            raise fail(
                "captcha_within",
                "captcha.within must be at most 5m: Telegram lets the bot message a join "
                "requester only for five minutes",
            )
        return value

    @field_validator("group_batch")
    @classmethod
    def _batch_inside_within(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        within = info.data.get("within")
        if within is not None and value >= within:
            raise fail(
                "captcha_group_batch",
                "captcha.group_batch must be shorter than captcha.within, or a newcomer "
                "would be removed before their challenge was posted",
            )
        return value


def merged(top: ModerationConfig | None, own: ModerationConfig | None) -> ModerationConfig | None:
    """A community's moderation: its own keys over the top-level ones."""
    if own is None:
        return top
    if top is None:
        return own
    return top.model_copy(update={key: getattr(own, key) for key in own.model_fields_set})
