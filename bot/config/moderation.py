"""Config section ``moderation:`` (top level, and per community under ``communities[]``) and the
complaint words of ``alerts.keywords``."""

from __future__ import annotations

from dataclasses import dataclass
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


#: the rules whose steps ``moderation.actions`` may set, by the name findings carry
RULE_KEYS: dict[str, str] = {
    "banned_word": "banned_words",
    "contact": "contacts",
    "link": "links",
    "flood": "flood",
    "stickers": "stickers",
    "wave": "wave",
}


class RuleSteps(Section):
    """What follows when one rule is broken; a key not given keeps the top-level value of
    ``moderation`` (``warn``, ``mute_after``, ``mute_for``, ``ban_after``)."""

    #: ``false``: the message stays (the warning and what follows it still count)
    delete: bool = True
    warn: bool = True
    mute_after: Int = Field(default=3, ge=0)
    mute_for: Duration = timedelta(days=1)
    ban_after: Int = Field(default=5, ge=0)


class RuleActions(Section):
    """``moderation.actions``: each rule's own steps."""

    banned_words: RuleSteps | None = None
    contacts: RuleSteps | None = None
    links: RuleSteps | None = None
    flood: RuleSteps | None = None
    stickers: RuleSteps | None = None
    wave: RuleSteps | None = None


class FloodConfig(Section):
    """``messages`` messages within ``seconds`` seconds from one member is a flood."""

    messages: Int = Field(ge=2, le=100)
    seconds: Int = Field(ge=1, le=3600)


class WaveConfig(Section):
    """The same text (normalised) from ``accounts`` accounts within ``within`` is a spam wave."""

    accounts: Int = Field(ge=2, le=100)
    within: Duration
    #: shorter texts (letters and digits, once normalised) are never a wave: 好的, +1, 收到
    min_length: Int = Field(default=8, ge=1, le=1000)

    @field_validator("within")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if value > timedelta(hours=1):
            raise fail("wave_within", "at most 1h (the copies are kept in memory that long)")
        return value


@dataclass(frozen=True)
class Steps:
    """One rule's steps, resolved: its own keys over the top-level ones."""

    delete: bool
    warn: bool
    mute_after: int
    mute_for: timedelta
    ban_after: int


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
    #: N messages within T seconds from one member (``{messages: N, seconds: T}``); off if unset
    flood: FloodConfig | None = None
    #: stickers and GIFs: their own N within T (then they do not count in ``flood``)
    stickers: FloodConfig | None = None
    #: the same text from several accounts within a few minutes; off if unset
    wave: WaveConfig | None = None
    #: each rule's own steps, over the top-level ``warn``, ``mute_after``, ``mute_for``,
    #: ``ban_after``
    actions: RuleActions = Field(default_factory=RuleActions)

    def steps_for(self, rule: str) -> Steps:
        """The steps of a rule (a finding's name: ``banned_word``, ``flood``…); any other
        name (an operator's ``/warn``) gets the top-level ones."""
        own = getattr(self.actions, RULE_KEYS.get(rule, ""), None)
        chosen = {
            key: getattr(self, key) for key in ("warn", "mute_after", "mute_for", "ban_after")
        }
        delete = True
        if isinstance(own, RuleSteps):
            chosen.update({key: getattr(own, key) for key in own.model_fields_set - {"delete"}})
            delete = own.delete
        return Steps(delete=delete, **chosen)


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
    update = {key: getattr(own, key) for key in own.model_fields_set}
    if "actions" in update:  # rule by rule: a community's steps for one rule keep the others
        actions = own.actions
        update["actions"] = top.actions.model_copy(
            update={key: getattr(actions, key) for key in actions.model_fields_set}
        )
    return top.model_copy(update=update)
