"""FAQ matching on Chinese without spaces and on English: the right entry or none."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sop.faq import DEFAULT_THRESHOLD, FaqEntry, FaqMatcher, faq_features

QUESTIONS = [
    "怎么使用优惠券？",  # 0
    "How do I use a coupon?",  # 1
    "优惠券过期了怎么办",  # 2
    "怎么加入VIP会员",  # 3
    "会员有什么权益",  # 4
    "晚上几点答疑",  # 5
    "How do I join the evening Q&A?",  # 6
    "Where is my order?",  # 7
    "退款怎么申请",  # 8
    "发货要多久",  # 9
    "How long does shipping take?",  # 10
    "如何修改收货地址",  # 11
    "Can I change my delivery address?",  # 12
    "新人礼包怎么领取",  # 13
    "积分可以兑换什么",  # 14
    "怎么开发票",  # 15
    "支持货到付款吗",  # 16
    "有没有学生优惠",  # 17
]
FAQ = [FaqEntry(q, f"answer {i}") for i, q in enumerate(QUESTIONS)]


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    return FaqMatcher(FAQ)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("优惠券怎么用", 0),
        ("优惠券怎么用？？", 0),
        ("coupon how to use", 1),
        ("HOW TO USE COUPONS", 1),
        ("优惠券过期了怎么办啊", 2),
        ("VIP怎么加入", 3),
        ("会员权益有哪些", 4),
        ("答疑几点开始", 5),
        ("how to join evening Q&A", 6),
        ("where is my order??", 7),
        ("怎么退款", 8),
        ("怎么改地址", 11),
        ("change delivery address", 12),
        ("新人礼包在哪领", 13),
        ("积分能换什么", 14),
        ("发票怎么开", 15),
        ("能货到付款吗", 16),
        ("学生有优惠吗", 17),
        ("请问怎么使用优惠券", 0),
        ("怎么使用优惠券？", 0),
    ],
)
def test_matches(matcher: FaqMatcher, text: str, index: int) -> None:
    found = matcher.best(text)
    assert found is not None and found.index == index, (text, found)
    assert DEFAULT_THRESHOLD <= found.score <= 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "👍",
        "今天天气不错",
        "hello everyone",
        "how are you",
        "今天怎么样",
        "大家好",
        "what time is it",
        "我今天很开心",
        "这个产品太好用了",
        "晚上吃什么",
        "有人在吗",
        "哈哈哈哈",
        "好的谢谢",
        "早上好",
        "大家晚上好",
        "我想问个问题",
        "我刚下单了",
        "good morning all",
        "anyone here?",
        "会不会下雨",
        "https://example.com/coupon?use=1",
    ],
)
def test_unrelated_chat_matches_nothing(matcher: FaqMatcher, text: str) -> None:
    assert matcher.best(text) is None


def test_ties_go_to_the_lowest_index() -> None:
    m = FaqMatcher(
        [
            FaqEntry("how to use a coupon", "a"),
            FaqEntry("Coupons: how to use?", "b"),
            FaqEntry("coupon use", "c"),
        ]
    )
    best = m.best("use coupon")
    assert best is not None and best.index == 0 and best.score == pytest.approx(1.0)
    only_coupon = m.best("coupon")
    assert only_coupon is not None and only_coupon.index == 0  # all three score the same


def test_an_empty_faq_matches_nothing() -> None:
    assert FaqMatcher([]).best("怎么使用优惠券") is None


def test_the_threshold_is_a_similarity() -> None:
    with pytest.raises(ValueError, match="threshold"):
        FaqMatcher(FAQ, threshold=0)
    strict = FaqMatcher(FAQ, threshold=1.0)
    assert strict.best("优惠券怎么用") is None
    best = strict.best("coupon how to use")
    assert best is not None and best.index == 1 and best.score == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "features"),
    [
        ("怎么使用优惠券？", {"使", "用", "优", "惠", "券", "使用", "用优", "优惠", "惠券"}),
        ("How do I use Coupons?", {"use", "coupon"}),
        ("ＶＩＰ会员", {"vip", "会", "员", "会员"}),
        ("请问怎么样", {"样"}),
        ("what is it?", set()),
    ],
)
def test_features(text: str, features: set[str]) -> None:
    assert faq_features(text) == features


# -- the property: every entry finds itself ----------------------------------------------------

zh = st.text("优惠券会员答疑直播发货退款地址积分礼包新人学生怎么如何吗的", min_size=1, max_size=12)
en = st.lists(
    st.sampled_from(
        [
            "coupon",
            "use",
            "join",
            "vip",
            "order",
            "refund",
            "how",
            "do",
            "i",
            "the",
            "address",
            "shipping",
            "666",
            "gift",
            "live",
        ]
    ),
    min_size=1,
    max_size=6,
).map(" ".join)
questions = st.lists(st.one_of(zh, en, st.tuples(zh, en).map("".join)), min_size=1, max_size=40)


@given(questions)
def test_every_entry_finds_itself_or_an_identical_twin(texts: list[str]) -> None:
    entries = [FaqEntry(t, str(i)) for i, t in enumerate(texts)]
    m = FaqMatcher(entries)
    for i, entry in enumerate(entries):
        found = m.best(entry.question)
        if not faq_features(entry.question):
            assert found is None  # only function words: nothing to match by
            continue
        assert found is not None
        assert found.score == pytest.approx(1.0)
        assert found.index <= i
        assert faq_features(entries[found.index].question) == faq_features(entry.question)


@given(st.lists(st.text(max_size=30), max_size=20), st.text())
def test_never_raises_and_scores_are_similarities(texts: list[str], query: str) -> None:
    found = FaqMatcher([FaqEntry(t, "") for t in texts]).best(query)
    if found is not None:
        assert 0 <= found.index < len(texts)
        assert DEFAULT_THRESHOLD <= found.score <= 1


def _brute_force(texts: list[str], query: str) -> list[float]:
    """Cosine of the query with every entry, no index, no pruning: what the index must equal."""
    documents = [faq_features(t) for t in texts]
    n = len(documents)

    def idf(feature: str) -> float:
        df = sum(feature in d for d in documents)
        return math.log((1 + n) / (1 + df)) + 1

    q = faq_features(query)
    q_norm = math.sqrt(sum(idf(f) ** 2 for f in q))
    scores = []
    for d in documents:
        d_norm = math.sqrt(sum(idf(f) ** 2 for f in d))
        dot = sum(idf(f) ** 2 for f in q & d)
        scores.append(dot / (q_norm * d_norm) if dot else 0.0)
    return scores


@given(questions, st.one_of(zh, en, st.tuples(zh, en).map(" ".join)))
def test_the_index_finds_what_scoring_every_entry_finds(texts: list[str], query: str) -> None:
    found = FaqMatcher([FaqEntry(t, "") for t in texts]).best(query)
    scores = _brute_force(texts, query)
    top = max(scores)
    if abs(top - DEFAULT_THRESHOLD) < 1e-9:
        return  # too close to call either way
    if top < DEFAULT_THRESHOLD:
        assert found is None
    else:
        assert found is not None
        assert found.score == pytest.approx(top, abs=1e-9)
        assert scores[found.index] == pytest.approx(top, abs=1e-9)
        assert found.index == min(i for i, s in enumerate(scores) if abs(s - top) < 1e-9)
