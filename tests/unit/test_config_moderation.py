"""``moderation.flood``, ``stickers``, ``wave`` and ``actions``: each mistake named by its key
and line; each rule's steps over the top-level ones, and a community's over both, rule by rule."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from bot.config import parse_config
from tests.unit.test_config import MINIMAL, config_error, line_of

MODERATION = textwrap.dedent("""\
    moderation:
      mute_after: 4
      flood: {messages: 6, seconds: 10}
      stickers: {messages: 4, seconds: 30}
      wave: {accounts: 3, within: 5m}
      actions:
        flood: {mute_after: 1, mute_for: 1h}
        links: {delete: false}
    """)


def test_each_rule_has_its_own_steps_over_the_top_level_ones() -> None:
    moderation = parse_config(MINIMAL + MODERATION, "community.yaml").moderation
    assert moderation is not None
    flood = moderation.steps_for("flood")
    assert (flood.mute_after, flood.mute_for, flood.ban_after) == (1, timedelta(hours=1), 5)
    words = moderation.steps_for("banned_word")
    assert (words.mute_after, words.mute_for, words.delete) == (4, timedelta(days=1), True)
    assert moderation.steps_for("link").delete is False
    assert moderation.steps_for("manual") == words  # an operator's /warn: the top level
    assert moderation.wave is not None and moderation.wave.min_length == 8


def test_a_community_overrides_one_rule_and_keeps_the_others() -> None:
    text = MINIMAL.replace(
        "    title: Only\n",
        "    title: Only\n    moderation:\n      actions:\n        wave: {ban_after: 1}\n",
    )
    config = parse_config(text + MODERATION, "community.yaml")
    moderation = config.moderation_for(-100)
    assert moderation is not None
    assert moderation.steps_for("wave").ban_after == 1
    assert moderation.steps_for("flood").mute_after == 1  # the top-level flood steps stay
    assert moderation.flood is not None and moderation.flood.messages == 6


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("messages: 6, ", "messages: 1, ", "moderation.flood.messages", "at least 2"),
        ("seconds: 10}", "seconds: 0}", "moderation.flood.seconds", "at least 1"),
        ("within: 5m}", "within: 2h}", "moderation.wave.within", "at most 1h"),
        ("accounts: 3,", "accounts: one,", "moderation.wave.accounts", "whole number"),
        (
            "{mute_after: 1,",
            "{mute_after: -1,",
            "moderation.actions.flood.mute_after",
            "at least 0",
        ),
        ("mute_for: 1h}", "mute_for: soon}", "moderation.actions.flood.mute_for", "duration"),
        ("links: {delete", "link: {delete", "moderation.actions.link", "did you mean 'links'"),
        ("{delete: false}", "{remove: false}", "moderation.actions.links.remove", "unknown key"),
        ("seconds: 30}", "secs: 30}", "moderation.stickers.secs", "unknown key"),
    ],
)
def test_each_mistake_names_its_key_and_line(old: str, new: str, key: str, words: str) -> None:
    text = MINIMAL + MODERATION.replace(old, new)
    error = config_error(text)
    assert error.key == key
    assert error.line == line_of(text, new)
    assert words in error.message


def test_a_flood_without_its_window_says_what_is_missing() -> None:
    text = MINIMAL + MODERATION.replace("{messages: 6, seconds: 10}", "{messages: 6}")
    error = config_error(text)
    assert error.key == "moderation.flood.seconds"
    assert "missing" in error.message
