"""Properties of configuration loading: durations round-trip, and nothing but ConfigError
escapes."""

from __future__ import annotations

from datetime import timedelta

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.config import CommunityConfig, format_duration, parse_config, parse_duration
from bot.config.durations import DurationError
from bot.errors import ConfigError
from tests.unit.conftest import EXAMPLE_CONFIG

EXAMPLE = EXAMPLE_CONFIG.read_text(encoding="utf-8")
QUICK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scalar_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of every scalar (keys and values) in a YAML text."""
    spans: list[tuple[int, int]] = []
    pending = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while pending:
        node = pending.pop()
        if isinstance(node, ScalarNode):
            spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, SequenceNode):
            pending += node.value
        elif isinstance(node, MappingNode):
            pending += [part for pair in node.value for part in pair]
    return sorted(spans)


SPANS = scalar_spans(EXAMPLE)

junk = st.one_of(
    st.sampled_from(
        [
            "",
            "soon",
            "-1",
            "0",
            "1",
            "yes",
            "null",
            "~",
            "[]",
            "{}",
            "[1, 2]",
            "{a: b}",
            "'",
            '"',
            ":",
            "- x",
            "&a",
            "*a",
            "!!binary aGk=",
            "!x y",
            "#",
            "1e400",
            "0x10",
            "2024-01-01",
            "\t",
            "\n",
            "a: b",
            "ÿ",
            "%",
            "@",
            "`",
        ]
    ),
    st.integers().map(str),
    st.text(max_size=12),
)


def check_line(error: ConfigError, text: str) -> None:
    """A reported line is a real line of the text."""
    if error.line is not None:
        assert 1 <= error.line <= max(1, len(text.splitlines())), (error, text)


def load_or_config_error(text: str) -> CommunityConfig | ConfigError:
    try:
        return parse_config(text)
    except ConfigError as error:
        check_line(error, text)
        assert str(error)
        return error


@given(st.integers(min_value=1, max_value=10**9).map(lambda seconds: timedelta(seconds=seconds)))
def test_durations_round_trip(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


@given(st.text(max_size=20))
def test_duration_text_parses_or_explains(text: str) -> None:
    try:
        assert parse_duration(text) > timedelta(0)
    except DurationError as error:
        assert "duration" in str(error)


@QUICK
@given(st.sampled_from(SPANS), junk)
@example(SPANS[0], "\t")
def test_mutated_scalar_loads_or_fails_with_a_line(span: tuple[int, int], replacement: str) -> None:
    start, end = span
    load_or_config_error(EXAMPLE[:start] + replacement + EXAMPLE[end:])


@QUICK
@given(
    st.lists(
        st.tuples(st.sampled_from(SPANS), junk),
        min_size=2,
        max_size=5,
        unique_by=lambda pair: pair[0],
    )
)
def test_several_mutations_load_or_fail_with_a_line(
    changes: list[tuple[tuple[int, int], str]],
) -> None:
    text = EXAMPLE
    for (start, end), replacement in sorted(changes, reverse=True):  # back to front keeps offsets
        text = text[:start] + replacement + text[end:]
    load_or_config_error(text)


@QUICK
@given(st.text())
@example("a: \x00")
@example("[" * 2000)
@example("a: &a [*a]")
@example("a: 2024-13-45")
@example("? [a]\n: b")
def test_arbitrary_text_only_raises_config_error(text: str) -> None:
    load_or_config_error(text)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "timezone",
                    "communities",
                    "welcome",
                    "chat_id",
                    "title",
                    "within",
                    "hooks",
                    "id",
                    "keywords",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@QUICK
@given(yaml_values)
def test_arbitrary_yaml_data_only_raises_config_error(data: object) -> None:
    load_or_config_error(yaml.safe_dump(data, allow_unicode=True))


FIELD_NAMES = sorted(
    {
        line.split(":")[0].strip()
        for line in EXAMPLE.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    }
    - {"newcomer"}
)


@QUICK
@given(
    st.sampled_from(FIELD_NAMES),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6),
)
def test_unknown_key_is_reported_on_its_line(existing: str, suffix: str) -> None:
    lines = EXAMPLE.splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if line.strip().startswith(f"{existing}:"))
    lines[number] = lines[number].replace(f"{existing}:", f"{existing}{suffix}:", 1)
    text = "".join(lines)
    error = load_or_config_error(text)
    assert isinstance(error, ConfigError)
    assert error.line == number + 1
    assert error.key is not None and error.key.endswith(f"{existing}{suffix}")
