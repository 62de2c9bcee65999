"""The community configuration: the example loads, and each mistake is reported where it is."""

from __future__ import annotations

import os
import subprocess
import textwrap
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.config import (
    CommunityConfig,
    describe,
    format_duration,
    load_config,
    parse_config,
    parse_duration,
)
from bot.config.durations import DurationError
from bot.errors import ConfigError
from tests.unit.conftest import EXAMPLE_CONFIG

#: the shared spec sits beside the checkout (``../shared`` from the repository root)
REPOSITORY = Path(__file__).resolve().parents[2]
SPEC = Path("shared") / "spec" / "community.example.yaml"


def _shared_example() -> Path:
    """``../shared`` beside the checkout; for a clone (CI checks out a clean clone of main),
    beside the repository it was cloned from when that is a local path."""
    here = REPOSITORY.parent / SPEC
    if here.exists():
        return here
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPOSITORY), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return here
    source = Path(origin.removeprefix("file://"))
    if origin and source.is_absolute() and (source.parent / SPEC).exists():
        return source.parent / SPEC
    return here


SHARED_EXAMPLE = _shared_example()

MINIMAL = textwrap.dedent("""\
    timezone: UTC
    communities:
      - chat_id: -100
        title: Only
    welcome: {}
    """)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the text"
    return hits[occurrence - 1]


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "community.yaml")
    return caught.value


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


# --- the example -------------------------------------------------------------------------------


def test_example_file_loads_as_documented(example_text: str) -> None:
    config = parse_config(example_text)

    assert config.timezone == "Asia/Shanghai"
    assert config.tz == ZoneInfo("Asia/Shanghai")
    assert config.default_locale == "zh"
    assert config.team.operators == frozenset({1001, 1002})
    assert config.team.chat == -1005001
    assert config.community_ids == frozenset({-1002001})
    assert config.welcome.within == timedelta(minutes=30)
    assert config.welcome.group_batch == timedelta(minutes=2)
    assert (config.welcome.template, config.welcome.dm_template) == ("welcome", "welcome_dm")
    assert config.welcome.gift_coupon == "newcomer"
    assert config.first_response.within == timedelta(minutes=5)
    assert [(s.id, s.cron, s.template) for s in config.schedules] == [
        ("morning_briefing", "0 8 * * *", "morning_briefing"),
        ("evening_qa", "0 20 * * *", "evening_qa"),
    ]
    hook = config.hooks[0]
    assert (hook.id, hook.keywords, hook.template, hook.tag) == (
        "guide",
        ["666"],
        "guide",
        "interest:guide",
    )
    coupon = config.coupons["newcomer"]
    assert (coupon.title, coupon.discount, coupon.valid_days, coupon.per_member) == (
        "新人礼包",
        "20%",
        7,
        1,
    )


def test_load_config_reads_the_file() -> None:
    assert load_config(EXAMPLE_CONFIG).community_ids == frozenset({-1002001})


def test_fixture_is_the_shared_example() -> None:
    if not SHARED_EXAMPLE.exists():
        if os.environ.get("CI"):  # CI checks out ../shared: a missing spec is a broken checkout
            pytest.fail(f"{SHARED_EXAMPLE} is missing (CI must check out ../shared)")
        pytest.skip(f"the shared spec is not checked out beside the repository ({SHARED_EXAMPLE})")
    assert EXAMPLE_CONFIG.read_text(encoding="utf-8") == SHARED_EXAMPLE.read_text(encoding="utf-8")


def test_defaults_fill_a_minimal_file() -> None:
    config = parse_config(MINIMAL)

    assert config.team.operators == frozenset() and config.team.chat is None
    assert config.welcome.within == timedelta(minutes=30)
    assert config.welcome.max_mentions == 50
    assert config.welcome.approve_join_requests and config.welcome.enabled
    assert config.first_response.within == timedelta(minutes=5)
    assert (config.schedules, config.hooks, config.coupons) == ([], [], {})


def test_community_lookup(example_text: str) -> None:
    config = parse_config(example_text)

    assert config.community(-1002001) is not None
    assert config.community(-1002001).title == "Demo community"  # type: ignore[union-attr]
    assert config.community(-1005001) is None
    assert config.is_community(-1002001)
    assert not config.is_community(1001)


def test_config_is_frozen(example_text: str) -> None:
    config = parse_config(example_text)
    with pytest.raises(ValidationError):
        config.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.welcome.within = timedelta(1)  # type: ignore[misc]


def test_numbers_typed_as_keywords_are_text() -> None:
    text = MINIMAL + "hooks:\n  - id: g\n    keywords: [666]\n    template: guide\n"
    assert parse_config(text).hooks[0].keywords == ["666"]


def test_dates_stay_text() -> None:
    text = MINIMAL.replace("title: Only", "title: 2024-13-45")
    assert parse_config(text).communities[0].title == "2024-13-45"


def test_merge_keys_may_override_without_being_duplicates() -> None:
    text = MINIMAL + textwrap.dedent("""\
        coupons:
          base: &base {title: Base, discount: "10%", valid_days: 7}
          big:
            <<: *base
            discount: "50%"
        """)
    assert parse_config(text).coupons["big"].discount == "50%"


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("2m", timedelta(minutes=2)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        (" 1d 2h ", timedelta(hours=26)),
        ("2H", timedelta(hours=2)),
        (90, timedelta(seconds=90)),
        ("45", timedelta(seconds=45)),
        (timedelta(minutes=3), timedelta(minutes=3)),
    ],
)
def test_durations_parse(written: object, expected: timedelta) -> None:
    assert parse_duration(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "soon",
        "",
        "m",
        "1.5h",
        "30m1h",
        "-5m",
        True,
        1.5,
        None,
        [1],
        "0s",
        0,
        -30,
        "99999999999999d",
    ],
)
def test_bad_durations_say_what_is_expected(written: object) -> None:
    with pytest.raises(DurationError, match="duration"):
        parse_duration(written)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=7), "7d"),
        (timedelta(seconds=45), "45s"),
        (timedelta(0), "0s"),
        (timedelta(days=1, seconds=1), "1d1s"),
    ],
)
def test_durations_format(value: timedelta, written: str) -> None:
    assert format_duration(value) == written


# --- each mistake: key and line ----------------------------------------------------------------


def test_bad_duration(example_text: str) -> None:
    text = replaced(example_text, "within: 30m", "within: soon")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.within", line_of(text, "within: soon"))
    assert error.message == "expected a duration like 30m, 2h, 7d (got 'soon')"
    assert str(error).startswith(
        f"community.yaml:{error.line}: welcome.within: expected a duration like 30m, 2h, 7d"
    )


def test_unknown_key_suggests_the_right_one(example_text: str) -> None:
    text = replaced(example_text, "welcome:\n", "welcom:\n")
    error = config_error(text)
    assert (error.key, error.line) == ("welcom", line_of(text, "welcom:"))
    assert "did you mean 'welcome'" in error.message
    assert "missing" not in error.message  # the suggestion explains the missing section


def test_unknown_nested_key(example_text: str) -> None:
    text = replaced(example_text, "  template: welcome ", "  templte: welcome ")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.templte", line_of(text, "templte:"))
    assert "did you mean 'template'" in error.message


def test_missing_communities_points_at_the_top(example_text: str) -> None:
    lines = example_text.splitlines(keepends=True)
    start = line_of(example_text, "communities:")
    text = "".join(lines[: start - 1] + lines[start + 2 :])
    error = config_error(text)
    assert (error.key, error.line) == ("communities", line_of(text, "timezone:"))
    assert "missing" in error.message


def test_empty_communities_list(example_text: str) -> None:
    text = MINIMAL.replace(
        "communities:\n  - chat_id: -100\n    title: Only\n", "communities: []\n"
    )
    error = config_error(text)
    assert (error.key, error.line) == ("communities", 2)
    assert "at least 1 item" in error.message


def test_missing_key_in_a_list_item_points_at_the_item() -> None:
    text = MINIMAL.replace("    title: Only\n", "")
    error = config_error(text)
    assert (error.key, error.line) == ("communities[0].title", line_of(text, "chat_id"))


def test_positive_community_chat_id(example_text: str) -> None:
    text = replaced(example_text, "chat_id: -1002001", "chat_id: 1002001")
    error = config_error(text)
    assert (error.key, error.line) == ("communities[0].chat_id", line_of(text, "chat_id: 1002001"))
    assert "negative" in error.message


def test_unknown_gift_coupon(example_text: str) -> None:
    text = replaced(example_text, "gift_coupon: newcomer", "gift_coupon: newcomr")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.gift_coupon", line_of(text, "gift_coupon:"))
    assert "'newcomr'" in error.message and "newcomer" in error.message


def test_unknown_hook_coupon(example_text: str) -> None:
    text = replaced(
        example_text, "    tag: interest:guide\n", "    tag: interest:guide\n    coupon: vip\n"
    )
    error = config_error(text)
    assert (error.key, error.line) == ("hooks[0].coupon", line_of(text, "coupon: vip"))


def test_duplicate_key(example_text: str) -> None:
    text = replaced(example_text, "  group_batch: 2m", "  group_batch: 2m\n  within: 10m")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.within", line_of(text, "within: 10m"))
    assert f"first on line {line_of(text, 'within: 30m')}" in error.message


def test_duplicate_top_level_key(example_text: str) -> None:
    text = example_text + "timezone: UTC\n"
    error = config_error(text)
    assert (error.key, error.line) == ("timezone", line_of(text, "timezone: UTC"))


def test_duplicate_key_inside_a_list_item(example_text: str) -> None:
    text = replaced(
        example_text,
        "    template: evening_qa\n",
        '    template: evening_qa\n    cron: "0 21 * * *"\n',
    )
    error = config_error(text)
    assert (error.key, error.line) == ("schedules[1].cron", line_of(text, '"0 21 * * *"'))


def test_bad_timezone(example_text: str) -> None:
    text = replaced(example_text, "timezone: Asia/Shanghai", "timezone: Asia/Shanghia")
    error = config_error(text)
    assert (error.key, error.line) == ("timezone", line_of(text, "timezone:"))
    assert "Asia/Shanghia" in error.message


@pytest.mark.parametrize(
    "cron",
    [
        "0 25 * * *",
        "0 8 * *",
        "0 8 * * * *",
        "every day",
        "0 8 * * someday",
        "*/0 * * * *",
        "0 8 32 * *",
        "5-1 * * * *",
    ],
)
def test_bad_cron(example_text: str, cron: str) -> None:
    text = replaced(example_text, '"0 20 * * *"', f'"{cron}"')
    error = config_error(text)
    assert (error.key, error.line) == ("schedules[1].cron", line_of(text, f'"{cron}"'))


@pytest.mark.parametrize(
    "cron", ["*/15 9-18 * * mon-fri", "0 8 1,15 jan-jun *", "0  8 * * 0", "30 20 * * SUN,7"]
)
def test_good_cron(cron: str) -> None:
    text = MINIMAL + f"schedules:\n  - id: s\n    cron: '{cron}'\n    template: t\n"
    assert parse_config(text).schedules[0].cron == " ".join(cron.split())


def test_colliding_hook_keywords_name_both_hooks(example_text: str) -> None:
    text = replaced(
        example_text,
        "\ncoupons:",
        textwrap.dedent("""
          - id: promo
            keywords: ["hello", "GUIDE", "666"]
            template: promo
        coupons:"""),
    )
    text = replaced(text, 'keywords: ["666"]', 'keywords: ["666", "guide"]')
    error = config_error(text)
    assert (error.key, error.line) == ("hooks[1].keywords[1]", line_of(text, '"GUIDE"'))
    assert "'guide'" in error.message and "'promo'" in error.message
    assert "hooks[1].keywords[2]" in error.message  # the other collision is listed too


def test_duplicate_ids_and_chats() -> None:
    text = MINIMAL.replace(
        "welcome: {}",
        textwrap.dedent("""\
          - chat_id: -100
            title: Again
        team: {chat: -100}
        welcome: {}
        schedules:
          - {id: s, cron: '0 8 * * *', template: a}
          - {id: s, cron: '0 9 * * *', template: b}"""),
    )
    error = config_error(text)
    assert (error.key, error.line) == ("communities[1].chat_id", line_of(text, "title: Again") - 1)
    assert "team.chat" in error.message and "schedules[1].id" in error.message


def test_group_batch_must_be_shorter_than_the_sla() -> None:
    text = MINIMAL.replace("welcome: {}", "welcome:\n  within: 1m\n")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.group_batch", line_of(text, "welcome:"))


def test_captcha_is_per_community_and_off_unless_configured() -> None:
    assert parse_config(MINIMAL).captcha_for(-100) is None
    text = MINIMAL.replace("    title: Only\n", "    title: Only\n    captcha: {}\n")
    config = parse_config(text)
    captcha = config.captcha_for(-100)
    assert captcha is not None and captcha.within == timedelta(minutes=2)
    assert config.guards_joins and config.captcha_for(-200) is None
    assert "join protection: a challenge answered within 2m" in describe(config)
    assert "join protection" not in describe(parse_config(MINIMAL))
    # the rights sopbot doctor checks, said by check-config too (one rule: rights_needed)
    assert set(config.rights_needed(-100)) >= {"can_restrict_members", "can_invite_users"}
    assert "admin rights needed: can_invite_users, can_restrict_members" in describe(config)
    assert "can_restrict_members" not in describe(parse_config(MINIMAL))


def test_captcha_within_is_at_most_five_minutes_and_the_error_names_the_key() -> None:
    text = MINIMAL.replace("    title: Only\n", "    title: Only\n    captcha:\n      within: 6m\n")
    error = config_error(text)
    assert error.key == "communities[0].captcha.within"
    assert error.line == line_of(text, "within: 6m")
    assert "captcha.within must be at most 5m" in error.message
    five = MINIMAL.replace("    title: Only\n", "    title: Only\n    captcha:\n      within: 5m\n")
    assert parse_config(five).captcha_for(-100) is not None


def test_captcha_group_batch_must_be_shorter_than_within() -> None:
    text = MINIMAL.replace("    title: Only\n", "    title: Only\n    captcha:\n      within: 5s\n")
    error = config_error(text)
    assert error.key == "communities[0].captcha.group_batch"
    assert "shorter than captcha.within" in error.message


@pytest.mark.parametrize(
    ("value", "words"),
    [(0, "at least 1"), (51, "at most 50"), ("many", "whole number"), ("true", "whole number")],
)
def test_max_mentions_range(value: object, words: str) -> None:
    text = MINIMAL.replace("welcome: {}", f"welcome:\n  max_mentions: {value}\n")
    error = config_error(text)
    assert (error.key, error.line) == ("welcome.max_mentions", line_of(text, "max_mentions"))
    assert words in error.message


def test_wrong_types_are_named(example_text: str) -> None:
    text = replaced(example_text, "valid_days: 7", "valid_days: a week")
    error = config_error(text)
    assert (error.key, error.line) == ("coupons.newcomer.valid_days", line_of(text, "a week"))
    assert error.message == "expected a whole number (got 'a week')"


def test_all_problems_are_listed(example_text: str) -> None:
    text = replaced(example_text, "within: 30m", "within: soon")
    text = replaced(text, "valid_days: 7", "valid_days: -1")
    text = replaced(text, "operators: [1001, 1002]", "operators: [1001, x]")
    error = config_error(text)
    assert (error.key, error.line) == ("team.operators[1]", line_of(text, "operators:"))
    assert f"community.yaml:{line_of(text, 'soon')}: welcome.within:" in error.message
    assert (
        f"community.yaml:{line_of(text, 'valid_days')}: coupons.newcomer.valid_days:"
        in error.message
    )


def test_yaml_syntax_error(example_text: str) -> None:
    text = replaced(example_text, "  within: 5m", "  within: 5m: now")
    error = config_error(text)
    assert (error.key, error.line) == (None, line_of(text, "5m: now"))
    assert "YAML syntax error" in error.message


def test_tab_indentation(example_text: str) -> None:
    text = replaced(example_text, "  within: 5m", "\twithin: 5m")
    error = config_error(text)
    assert (error.key, error.line) == (None, line_of(text, "\twithin"))
    assert "tab" in error.message


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    error = config_error(text)
    assert (error.key, error.line) == (None, None)
    assert "empty" in error.message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    error = config_error(text)
    assert error.line == 1 and "mapping" in error.message


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system ['true']", "!!binary aGk=", "!custom x", "!!set {a}"]
)
def test_unsafe_and_exotic_tags_are_refused(tag: str) -> None:
    text = MINIMAL.replace("title: Only", f"title: {tag}")
    error = config_error(text)
    assert error.line == line_of(text, "title:")
    assert "not allowed" in error.message


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert caught.value.message == "file not found"
    assert caught.value.path == str(missing)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path)


def test_path_appears_in_errors(tmp_path: Path) -> None:
    file = tmp_path / "community.yaml"
    file.write_text("timezone: Mars/Base\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert str(caught.value).startswith(f"{file}:1: timezone: unknown time zone 'Mars/Base'")


def test_models_validate_without_yaml() -> None:
    with pytest.raises(ValidationError, match="no coupon campaign named 'x'"):
        CommunityConfig.model_validate(
            {
                "timezone": "UTC",
                "communities": [{"chat_id": -1, "title": "t"}],
                "welcome": {"gift_coupon": "x"},
            }
        )


# --- summary -----------------------------------------------------------------------------------


def test_describe_summarises_the_example(example_text: str) -> None:
    summary = describe(parse_config(example_text))

    for expected in [
        "timezone: Asia/Shanghai",
        "default locale: zh",
        "team: 2 operators, team chat -1005001",
        "communities: 1",
        "-1002001: Demo community",
        "greet within 30m",
        "batched per 2m",
        "gift coupon newcomer",
        "first response: within 5m",
        "schedules: 2",
        "morning_briefing: cron '0 8 * * *'",
        "hooks: 1",
        "guide: '666'",
        "coupon campaigns: 1",
        "newcomer: 新人礼包, 20%, valid 7 days",
    ]:
        assert expected in summary


def test_describe_minimal() -> None:
    summary = describe(parse_config(MINIMAL))
    assert "team: 0 operators, no team chat" in summary
    assert "no gift coupon" in summary
