"""The ``tags:``, ``segments:`` and ``winback:`` sections and ``schedules[].target``: defaults,
and each mistake reported with its key and line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import parse_config
from bot.config.tags import known_tags
from bot.errors import ConfigError
from bot.rendering import Renderer
from bot.runtime import engine_for

BASE = """\
timezone: Asia/Shanghai
communities:
  - chat_id: -100
    title: Only
welcome: {}
coupons:
  winback:
    title: Back
    discount: "10%"
    valid_days: 7
hooks:
  - id: guide
    keywords: ["666"]
    template: guide
    tag: interest:guide
"""

FULL = (
    BASE
    + """\
tags:
  lifecycle: {new: 14d, silent: 5d, churned: 60d}
  daily_at: "09:30"
  interests:
    coffee: [咖啡, latte]
  rules:
    - tag: buyer:frequent
      metric: coupons_redeemed
      at_least: 3
  manual: [vip]
segments:
  fans:
    tags: [interest:coffee, vip]
    not_tags: [team]
    lifecycle: [active]
    tier: [high_value]
    source: [spring]
    reachable: true
    joined_within: 30d
schedules:
  - id: tip
    cron: "0 12 * * 1"
    template: guide
    target: fans
winback:
  coupon: winback
  segment: fans
"""
)


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "community.yaml")
    return caught.value


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_defaults_when_the_sections_are_left_out() -> None:
    config = parse_config(BASE)
    assert config.tags.lifecycle.new == timedelta(days=30)
    assert config.tags.lifecycle.silent == timedelta(days=7)
    assert config.tags.lifecycle.churned == timedelta(days=90)
    assert config.tags.daily_at == "10:00"
    assert config.segments == {} and config.winback is None


def test_a_full_configuration_loads() -> None:
    config = parse_config(FULL)
    assert config.tags.lifecycle.silent == timedelta(days=5)
    assert config.segments["fans"].joined_within == timedelta(days=30)
    assert config.winback is not None and config.winback.caps.high_value == timedelta(days=15)
    assert config.schedules[0].target == "fans"
    assert "interest:coffee" in known_tags(config.tags, ["interest:guide"])


def test_interests_are_compiled_once_with_the_engine() -> None:
    engine = engine_for(parse_config(FULL))
    assert engine.interests_in("来一杯拿铁还是咖啡？") == ["coffee"]
    assert engine.interests_in("a LATTE please") == ["coffee"]
    assert engine.interests_in("lattes") == []  # whole words for Latin keywords


@pytest.mark.parametrize(
    ("old", "new", "key", "needle"),
    [
        (
            "tags: [interest:coffee, vip]",
            "tags: [interest:coffe, vip]",
            "segments.fans.tags[0]",
            "interest:coffe",
        ),
        ("not_tags: [team]", "not_tags: [teem]", "segments.fans.not_tags[0]", "teem"),
        ("target: fans", "target: fanz", "schedules[0].target", "target: fanz"),
        ("  segment: fans", "  segment: nobody", "winback.segment", "segment: nobody"),
        ("  coupon: winback", "  coupon: comeback", "winback.coupon", "coupon: comeback"),
        ("lifecycle: [active]", "lifecycle: [sleeping]", "segments.fans.lifecycle[0]", "sleeping"),
        ("tier: [high_value]", "tier: [gold]", "segments.fans.tier[0]", "gold"),
        ('daily_at: "09:30"', 'daily_at: "9.30"', "tags.daily_at", "daily_at"),
        ("churned: 60d", "churned: 3d", "tags.lifecycle", "lifecycle:"),
        (
            "      metric: coupons_redeemed",
            "      metric: purchases",
            "tags.rules[0].metric",
            "purchases",
        ),
    ],
)
def test_mistakes_are_reported_with_key_and_line(old: str, new: str, key: str, needle: str) -> None:
    text = FULL.replace(old, new)
    assert text != FULL
    error = error_of(text)
    assert error.key == key
    assert error.line == line_of(text, needle)


def test_unknown_tag_message_lists_the_known_ones() -> None:
    error = error_of(FULL.replace("tags: [interest:coffee, vip]", "tags: [gold]"))
    assert "unknown tag 'gold'" in error.message and "interest:guide" in error.message
    assert "tags.manual" in error.message


def test_a_segment_cannot_take_a_built_in_name() -> None:
    error = error_of(FULL.replace("  fans:\n", "  silent:\n").replace("fans", "silent"))
    assert error.key == "segments.silent" and "built-in" in error.message


def test_only_message_schedules_target_a_segment() -> None:
    text = FULL.replace("    target: fans", "    target: fans\n    kind: briefing")
    error = error_of(text)
    assert error.key == "schedules[0].target" and "only message schedules" in error.message


def test_a_built_in_segment_is_a_valid_target() -> None:
    config = parse_config(FULL.replace("target: fans", "target: silent"))
    assert config.schedules[0].target == "silent"


def test_the_winback_template_must_exist() -> None:
    from bot.config.templates import template_problems

    config = parse_config(FULL.replace("  segment: fans", "  template: no_such_dm"))
    problems = template_problems(config, Renderer())
    assert [(loc, "no_such_dm" in message) for loc, message in problems] == [
        (("winback", "template"), True)
    ]
