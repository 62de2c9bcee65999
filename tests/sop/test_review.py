"""Copy review: the 广告法's absolute terms as whole terms, block words, Latin word bounds."""

from __future__ import annotations

from sop.review import ABSOLUTE_TERMS, CopyReview


def test_absolute_terms_are_found_and_everyday_words_are_not() -> None:
    review = CopyReview(ABSOLUTE_TERMS)
    found = review.check("全网最低价！国家级品质，100%有效")
    assert set(found.warn) == {"最低价", "国家级", "100%有效"} and found.level == "warn"
    assert review.check("最近第一次参加活动，欢迎大家").level is None


def test_block_words_win_and_latin_words_need_bounds() -> None:
    review = CopyReview(["best", "最好"], block=["最好", "guaranteed"])
    found = review.check("The best tea, 最好喝", "not guaranteedly")
    assert found.block == ("最好",) and found.warn == ("best",) and found.level == "block"
    assert review.check("bestseller").level is None
