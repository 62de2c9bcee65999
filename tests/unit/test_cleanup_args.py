"""``/cleanup`` arguments and button data (pure): what is read, what gets the usage line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import parse_config
from bot.services.moderation.cleanup import read_args, read_press
from tests.conftest import COMMUNITY, CONFIG_YAML

CONFIG = parse_config(CONFIG_YAML, "tests/unit/test_cleanup_args.py")


def test_silent_with_a_duration_dm_and_a_community() -> None:
    args = read_args("silent 90d", CONFIG)
    assert args is not None
    assert (args.kind, args.arg, args.chat_id, args.dm) == ("silent", "90d", COMMUNITY, False)
    assert args.silence == timedelta(days=90)
    args = read_args(f"SILENT 120d DM {COMMUNITY}", CONFIG)
    assert args is not None and args.dm and args.chat_id == COMMUNITY
    segment = read_args("segment churned dm", CONFIG)
    assert segment is not None and (segment.kind, segment.arg, segment.dm) == (
        "segment",
        "churned",
        True,
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "silent",
        "segment",
        "silent soon",
        "silent 6d",  # under a week: a typo more likely than a wish
        "silent 2h",
        "loud 90d",
        "silent 90d please",
        "silent 90d dm -100999",  # not a community
        f"silent 90d {COMMUNITY} dm",  # dm comes first
        "silent 90d -1 -2",
    ],
)
def test_anything_else_is_the_usage_line(text: str) -> None:
    assert read_args(text, CONFIG) is None


def test_button_data() -> None:
    assert read_press("cl:go:12:0123456789abcdef") == ("go", 12, "0123456789abcdef")
    assert read_press("cl:no:12:0123456789abcdef") == ("no", 12, "0123456789abcdef")
    for forged in (
        "cl:go:12",
        "cl:go:12:XYZ",
        "cl:go:x:0123456789abcdef",
        "cl:go:1:0123456789abcdef0",
    ):
        assert read_press(forged) is None
