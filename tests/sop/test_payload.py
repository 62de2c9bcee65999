"""Deep-link payloads: whatever follows /start becomes something safe to store."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from sop.payload import MAX_SOURCE, PayloadKind, parse_start_payload

SAFE = re.compile(r"^[A-Za-z0-9_:\-]*$")


def test_kinds() -> None:
    assert parse_start_payload(None).kind is PayloadKind.NONE
    assert parse_start_payload("  ").kind is PayloadKind.NONE
    assert parse_start_payload("gift").kind is PayloadKind.GIFT
    assert parse_start_payload("src_douyin") == parse_start_payload(" src_douyin ")
    assert parse_start_payload("src_douyin").source == "src_douyin"
    assert parse_start_payload("<script>").source == "invalid:script"
    assert parse_start_payload("x" * 65).kind is PayloadKind.INVALID
    assert parse_start_payload("🎁").source == "invalid:"
    assert parse_start_payload("invalid").kind is PayloadKind.SOURCE  # a real payload
    assert parse_start_payload("hook-guide").hook == "guide"


@given(st.text())
def test_any_text_gives_a_bounded_safe_source(raw: str) -> None:
    payload = parse_start_payload(raw)
    if payload.source is not None:
        assert len(payload.source) <= MAX_SOURCE
        assert SAFE.match(payload.source)
    assert (payload.kind is PayloadKind.SOURCE) == (
        payload.source is not None and not payload.source.startswith("invalid:")
    )


@given(st.from_regex(r"\A[A-Za-z0-9_\-]{1,64}\Z"))
def test_every_real_deep_link_is_kept_as_is(raw: str) -> None:
    payload = parse_start_payload(raw)
    if raw == "gift":
        assert payload.kind is PayloadKind.GIFT
    else:
        assert (payload.kind, payload.source) == (PayloadKind.SOURCE, raw)
