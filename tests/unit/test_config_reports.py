"""``reports:`` and ``alerts:``: defaults, and mistakes reported with key and line."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.config import parse_config
from bot.errors import ConfigError
from tests.conftest import CONFIG_YAML


def test_defaults() -> None:
    config = parse_config(CONFIG_YAML)
    assert config.reports.daily.enabled and config.reports.daily.time == time(9, 0)
    assert config.reports.weekly.weekday == 4 and config.reports.weekly.time == time(17, 0)
    assert config.alerts.drop == 0.5 and config.alerts.delivery_failure_rate == 0.1
    assert config.alerts.broadcast_stuck == timedelta(minutes=15)
    assert config.alerts.repeat_after == timedelta(hours=6)


def test_set_and_disabled() -> None:
    config = parse_config(
        CONFIG_YAML
        + """
reports:
  daily: {enabled: false}
  weekly: {day: Monday, at: "8:30"}
alerts:
  enabled: false
  delivery_window: 30m
"""
    )
    assert not config.reports.daily.enabled
    assert config.reports.weekly.weekday == 0 and config.reports.weekly.time == time(8, 30)
    assert not config.alerts.enabled and config.alerts.delivery_window == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("reports:\n  daily: {at: '25:00'}\n", "reports.daily.at"),
        ("reports:\n  weekly: {day: someday}\n", "reports.weekly.day"),
        ("reports:\n  dayly: {}\n", "reports.dayly"),
        ("alerts:\n  drop: 1.5\n", "alerts.drop"),
        ("alerts:\n  delivery_window: soon\n", "alerts.delivery_window"),
    ],
)
def test_mistakes_name_the_key_and_line(extra: str, key: str) -> None:
    text = CONFIG_YAML + extra
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "community.yaml")
    assert caught.value.key == key
    assert caught.value.line is not None and caught.value.line > CONFIG_YAML.count("\n")
