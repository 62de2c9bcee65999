"""The ``broadcasts:`` config section: defaults, and bad values named by key and line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import parse_config
from bot.errors import ConfigError
from tests.conftest import CONFIG_YAML


def test_defaults() -> None:
    config = parse_config(CONFIG_YAML, "test.yaml").broadcasts
    assert config.ab_window == timedelta(hours=48)
    assert config.progress_every == timedelta(seconds=5)
    assert config.backlog == 150 and config.respect_quiet_hours is False


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("  backlog: 5", "broadcasts.backlog"),
        ("  progress_every: 1s", "broadcasts.progress_every"),
        ("  ab_window: soon", "broadcasts.ab_window"),
        ("  typo_key: 1", "broadcasts.typo_key"),
    ],
)
def test_bad_values_are_named(line: str, key: str) -> None:
    text = CONFIG_YAML + "broadcasts:\n" + line + "\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "test.yaml")
    assert caught.value.key == key
    assert caught.value.line == text.count("\n")
