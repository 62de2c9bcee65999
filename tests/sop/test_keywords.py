"""Keyword hooks: exact words, case-insensitive, CJK-aware — and the fast automaton agrees with a
slow regex per keyword on any keywords and any text."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sop.keywords import KeywordMatcher, is_word_char, normalize

HOOKS = [
    ("lucky", ["666", "888"]),
    ("guide", ["guide", "指南"]),
    ("vip", ["VIP会员"]),
    ("trial", ["free trial"]),
    ("coupon", ["优惠券", "coupon"]),
    ("cpp", ["c++"]),
    ("cafe", ["café"]),
]


@pytest.fixture(scope="module")
def matcher() -> KeywordMatcher:
    return KeywordMatcher(HOOKS)


@pytest.mark.parametrize(
    ("text", "hooks"),
    [
        ("666", ["lucky"]),
        ("666!", ["lucky"]),
        ("回复666领取", ["lucky"]),
        ("６６６", ["lucky"]),  # full-width digits
        ("扣个６６６吧🎉", ["lucky"]),
        ("666 and 888", ["lucky"]),
        ("16668 666", ["lucky"]),  # a later occurrence that holds counts
        ("Guide?", ["guide"]),
        ("ＧＵＩＤＥ please", ["guide"]),  # full-width Latin
        ("the guide.", ["guide"]),
        ("我要指南谢谢", ["guide"]),
        ("指南guide", ["guide"]),
        ("开通VIP会员", ["vip"]),
        ("vip会员多少钱", ["vip"]),
        ("FREE  trial", ["trial"]),  # any run of whitespace
        ("free\ntrial!", ["trial"]),
        ("free\u3000trial", ["trial"]),  # ideographic space
        ("c++x", ["cpp"]),  # "+" is no word character: no boundary needed
        ("Café!", ["cafe"]),
        ("cafe\u0301 au lait", ["cafe"]),  # decomposed é composes
        ("优惠券 coupon 666 指南 VIP会员", ["lucky", "guide", "vip", "coupon"]),  # config order
        ("👍👍 666 666 666", ["lucky"]),  # each hook once
    ],
)
def test_matches(matcher: KeywordMatcher, text: str, hooks: list[str]) -> None:
    assert matcher.match(text) == hooks


@pytest.mark.parametrize(
    "text",
    [
        "16668",
        "6666",
        "a666",
        "666b",
        "x888y",
        "８８８８",
        "guidelines",
        "guides",
        "misguide",
        "guide2",
        "SVIP会员",
        "vip 会员",
        "freetrial",
        "free-trial",
        "free",
        "ac++",
        "cafés",
        "caféx",
        "优惠",
        "指 南",
        "",
        "   ",
        "👍",
        "hello everyone",
    ],
)
def test_does_not_match(matcher: KeywordMatcher, text: str) -> None:
    assert matcher.match(text) == []


def test_a_hook_with_no_keywords_never_matches() -> None:
    assert KeywordMatcher([("empty", []), ("x", ["x"])]).match("x") == ["x"]
    assert KeywordMatcher([]).match("anything") == []


def test_keywords_sharing_prefixes_and_suffixes() -> None:
    m = KeywordMatcher([("a", ["abc"]), ("b", ["bc"]), ("c", ["bcd"]), ("d", ["c"])])
    assert m.match("abcd") == []  # all Latin edges run into letters
    assert m.match("abc bcd c") == ["a", "c", "d"]
    cjk = KeywordMatcher([("a", ["优惠券"]), ("b", ["惠券"]), ("c", ["券"])])
    assert cjk.match("领优惠券") == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ([("a", ["x"]), ("a", ["y"])], "listed twice"),
        ([("a", ["  "])], "blank keyword"),
        ([("a", [""])], "blank keyword"),
    ],
)
def test_bad_hooks_are_refused(hooks: list[tuple[str, list[str]]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KeywordMatcher(hooks)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("６６６", "666"),
        ("Ａｂｃ", "abc"),
        ("？！，", "?!,"),
        ("Straße", "strasse"),
        ("ＶＩＰ会员", "vip会员"),
    ],
)
def test_normalize(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


@pytest.mark.parametrize(
    ("ch", "word"),
    [
        ("a", True),
        ("Z", True),
        ("7", True),
        ("é", True),
        ("ß", True),
        ("٣", True),
        ("指", False),
        ("カ", False),
        ("한", False),
        ("+", False),
        (" ", False),
        ("👍", False),
        ("_", False),
        ("б", False),
    ],
)
def test_word_characters(ch: str, word: bool) -> None:
    assert is_word_char(ch) is word


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


# -- the property: the automaton equals a regex per keyword ------------------------------------


def _word_class() -> str:
    """A regex class of the word characters, from the definition (Latin letters, decimal
    digits) by Unicode category and name — not from the code under test."""
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category == "Nd" or (
            category[0] == "L" and unicodedata.name(ch, "").startswith("LATIN ")
        ):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return (
        "["
        + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
        + "]"
    )


WORD = _word_class()


def _reference(hooks: list[tuple[str, list[str]]], text: str) -> list[str]:
    word = WORD
    s = normalize(text)
    found = []
    for hook_id, keywords in hooks:
        for keyword in keywords:
            k = " ".join(normalize(keyword).split())
            body = r"\s+".join(re.escape(part) for part in k.split(" "))
            left = f"(?<!{word})" if re.match(word, k[0]) else ""
            right = f"(?!{word})" if re.match(word, k[-1]) else ""
            if re.search(left + body + right, s):
                found.append(hook_id)
                break
    return found


# a small alphabet, so keywords occur, overlap and touch each other often
ALPHABET = "ab6８Ａé 指南会员+!?\u3000\n👍"
keywords = st.text(ALPHABET, min_size=1, max_size=4).filter(lambda k: k.strip() != "")
hook_sets = st.lists(st.lists(keywords, max_size=3), max_size=8).map(
    lambda kws: [(f"h{i}", k) for i, k in enumerate(kws)]
)


@given(hook_sets, st.text(ALPHABET, max_size=40))
def test_automaton_equals_the_regex_reference(
    hooks: list[tuple[str, list[str]]], text: str
) -> None:
    assert KeywordMatcher(hooks).match(text) == _reference(hooks, text)


@given(hook_sets, st.text(max_size=60))
def test_automaton_equals_the_regex_reference_on_any_text(
    hooks: list[tuple[str, list[str]]], text: str
) -> None:
    assert KeywordMatcher(hooks).match(text) == _reference(hooks, text)


@given(
    st.lists(keywords, min_size=1, max_size=3),
    st.text(ALPHABET, max_size=20),
    st.text(ALPHABET, max_size=20),
)
def test_a_keyword_between_spaces_always_matches(kws: list[str], before: str, after: str) -> None:
    m = KeywordMatcher([("h", kws)])
    assert m.match(f"{before} {kws[0]} {after}") == ["h"]
