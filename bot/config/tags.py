"""Config sections of issue 4's member model: ``tags:`` (lifecycle, interests, behaviour rules,
manual tags), ``segments:`` (named selections of members) and ``winback:`` (the automation that
DMs silent members a coupon).

Every tag a segment, a rule or ``/tag`` names must be known: declared here (``interests``,
``rules``, ``manual``), set by a hook (``hooks[].tag``), or built in (``team``, the value tiers
``tier:high_value``, ``tier:potential``, ``tier:silent``). A typo is a config error with its key
and line instead of a segment that is silently empty.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from bot.config.durations import Duration
from bot.config.fields import Positive, Section, Text, fail
from bot.config.keys import Loc
from bot.config.sop import check_clock

__all__ = [
    "BUILT_IN_SEGMENTS",
    "BUILT_IN_TAGS",
    "LIFECYCLE_STAGES",
    "TIERS",
    "BehaviourRule",
    "LifecycleConfig",
    "SegmentConfig",
    "TagsConfig",
    "WinbackCaps",
    "WinbackConfig",
    "known_tags",
    "tag_problems",
]

#: lifecycle stages, in the order of precedence (see bot/services/members/lifecycle.py)
LIFECYCLE_STAGES = ("active", "new", "silent", "churned")
#: value tiers (tags ``tier:<name>`` written by the coupons/orders part)
TIERS = ("high_value", "potential", "silent")
BUILT_IN_TAGS = ("team", *(f"tier:{tier}" for tier in TIERS))
BUILT_IN_SEGMENTS = ("all", "reachable", "new", "active", "silent", "churned")

_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"
#: a tag: lower-case letters, digits, CJK, ``_ - :`` — no spaces (``/tag`` takes one word)
_TAG = re.compile(r"^[^\s/@]{1,64}$")
SegmentName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_NAME)]
Metric = Literal["messages", "questions", "hooks", "coupons_redeemed"]


def _tag(value: str, key: str) -> str:
    if not _TAG.match(value):
        raise fail(
            key, f"a tag is one word of at most 64 characters, no spaces, / or @ (got {value!r})"
        )
    return value


class LifecycleConfig(Section):
    """How long it takes to move a member from one lifecycle stage to the next."""

    #: joined at most this long ago (and not active): ``new``
    new: Duration = timedelta(days=30)
    #: no message for this long: ``silent`` (a message within it: ``active``)
    silent: Duration = timedelta(days=7)
    #: no message for this long: ``churned``
    churned: Duration = timedelta(days=90)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleConfig:
        if self.churned <= self.silent:
            raise fail("churned", "must be longer than tags.lifecycle.silent")
        return self


class BehaviourRule(Section):
    """``tag`` while the member reaches ``at_least`` of ``metric`` (within ``days`` when given,
    else ever). Refreshed by the daily pass; a member who no longer qualifies loses the tag
    (only when this rule put it there)."""

    tag: Text
    metric: Metric
    at_least: Positive
    days: Positive | None = None

    @field_validator("tag")
    @classmethod
    def _tag_shape(cls, value: str) -> str:
        return _tag(value, "tag")


class TagsConfig(Section):
    """Tags: lifecycle thresholds, interest dictionaries, behaviour rules, manual tags."""

    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    #: local time of the daily pass (time-based lifecycle moves, behaviour rules, win-back)
    daily_at: Text = "10:00"
    #: interest name -> keywords (zh and en; Chinese needs no spaces): ``interest:<name>``
    interests: dict[SegmentName, list[Text]] = Field(default_factory=dict)
    rules: list[BehaviourRule] = Field(default_factory=list)
    #: tags operators put on members with ``/tag`` (any other known tag works there too)
    manual: list[Text] = Field(default_factory=list)

    @field_validator("daily_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        return check_clock(value, "daily_at")

    @field_validator("interests")
    @classmethod
    def _keywords(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, words in value.items():
            if not words:
                raise fail("interests", f"interest {name!r} needs at least one keyword")
        return value

    @field_validator("manual")
    @classmethod
    def _manual_shape(cls, value: list[str]) -> list[str]:
        for tag in value:
            _tag(tag, "manual")
        return value


class SegmentConfig(Section):
    """A named selection of members; every condition given must hold (AND)."""

    #: has every one of these tags
    tags: list[Text] = Field(default_factory=list)
    #: has at least one of these tags
    any_tags: list[Text] = Field(default_factory=list)
    #: has none of these tags
    not_tags: list[Text] = Field(default_factory=list)
    #: in one of these lifecycle stages
    lifecycle: list[Literal["active", "new", "silent", "churned"]] = Field(default_factory=list)
    #: in one of these value tiers (tags ``tier:<name>``)
    tier: list[Literal["high_value", "potential", "silent"]] = Field(default_factory=list)
    #: came from one of these sources (deep-link payload or invite link name)
    source: list[Text] = Field(default_factory=list)
    #: may (true) or may not (false) be messaged privately
    reachable: bool | None = None
    #: first seen at most this long ago
    joined_within: Duration | None = None


class WinbackCaps(Section):
    """At most one win-back DM per member per this long, by value tier (a member in several
    tiers gets the longest; ``other`` is for members without a tier)."""

    potential: Duration = timedelta(days=7)
    high_value: Duration = timedelta(days=15)
    silent: Duration = timedelta(days=90)
    other: Duration = timedelta(days=30)

    def by_tier(self) -> dict[str, timedelta]:
        return {"high_value": self.high_value, "potential": self.potential, "silent": self.silent}


class WinbackConfig(Section):
    """Silent, reachable members get a DM with a coupon (in the daily pass)."""

    coupon: Text
    template: Text = "winback_dm"
    #: silent at least this long (no message)
    after: Duration = timedelta(days=7)
    caps: WinbackCaps = Field(default_factory=WinbackCaps)
    #: at most this many win-back DMs a day (the rest follow on the next days)
    daily_limit: Positive = 1000
    #: only members of this segment (default: every silent or churned member)
    segment: Text | None = None
    enabled: bool = True


def known_tags(tags: TagsConfig, hook_tags: list[str]) -> list[str]:
    """Every tag name the config makes known, in a stable order."""
    names = [
        *BUILT_IN_TAGS,
        *(f"interest:{name}" for name in tags.interests),
        *(rule.tag for rule in tags.rules),
        *tags.manual,
        *hook_tags,
    ]
    return list(dict.fromkeys(names))


def tag_problems(
    tags: TagsConfig,
    segments: dict[str, SegmentConfig],
    winback: WinbackConfig | None,
    *,
    hook_tags: list[str],
    coupons: list[str],
) -> list[tuple[Loc, str]]:
    """Unknown tags in segments, segment names shadowing built-ins, win-back references."""
    problems: list[tuple[Loc, str]] = []
    known = set(known_tags(tags, hook_tags))
    listed = ", ".join(sorted(known))
    for name, segment in segments.items():
        if name in BUILT_IN_SEGMENTS:
            problems.append(
                (("segments", name), f"{name!r} is a built-in segment; choose another name")
            )
        for key in ("tags", "any_tags", "not_tags"):
            for index, tag in enumerate(getattr(segment, key)):
                if tag not in known:
                    problems.append(
                        (
                            ("segments", name, key, index),
                            f"unknown tag {tag!r} (known: {listed}; declare manual "
                            "tags under tags.manual)",
                        )
                    )
    if winback is not None:
        if winback.coupon not in coupons:
            problems.append(
                (
                    ("winback", "coupon"),
                    f"no coupon campaign named {winback.coupon!r} under coupons "
                    f"(known: {', '.join(sorted(coupons)) or 'none are defined'})",
                )
            )
        if winback.segment is not None:
            problems += segment_ref_problems(("winback", "segment"), winback.segment, segments)
    seen_rules: dict[str, int] = {}
    for index, rule in enumerate(tags.rules):
        if rule.tag in seen_rules:
            problems.append(
                (
                    ("tags", "rules", index, "tag"),
                    f"tag {rule.tag!r} is already set by tags.rules[{seen_rules[rule.tag]}]",
                )
            )
        seen_rules.setdefault(rule.tag, index)
    return problems


def segment_ref_problems(
    loc: Loc, name: str, segments: dict[str, SegmentConfig]
) -> list[tuple[Loc, str]]:
    if name in BUILT_IN_SEGMENTS or name in segments:
        return []
    known = ", ".join([*BUILT_IN_SEGMENTS, *segments])
    return [(loc, f"no segment named {name!r} (known: {known})")]


def describe_tags(
    tags: TagsConfig, segments: dict[str, SegmentConfig], winback: WinbackConfig | None
) -> list[str]:
    """Lines for ``check-config``: lifecycle, interests, rules, segments, win-back."""
    from bot.config.durations import format_duration

    life = tags.lifecycle
    lines = [
        f"lifecycle: new {format_duration(life.new)}, silent after "
        f"{format_duration(life.silent)}, churned after {format_duration(life.churned)}; "
        f"daily pass at {tags.daily_at}"
    ]
    if tags.interests:
        lines.append(f"interests: {', '.join(tags.interests)}")
    for rule in tags.rules:
        window = f" in {rule.days} days" if rule.days else ""
        lines.append(f"  - rule: {rule.tag} at {rule.at_least}+ {rule.metric}{window}")
    lines.append(f"segments: {', '.join([*BUILT_IN_SEGMENTS, *segments])}")
    if winback is None or not winback.enabled:
        lines.append("win-back: off")
    else:
        caps = winback.caps
        lines.append(
            f"win-back: silent {format_duration(winback.after)} -> coupon "
            f"{winback.coupon} by DM ({winback.template}), at most "
            f"{winback.daily_limit} a day; once per "
            f"{format_duration(caps.potential)} potential, "
            f"{format_duration(caps.high_value)} high value, "
            f"{format_duration(caps.silent)} silent, {format_duration(caps.other)} "
            "others"
        )
    return lines
