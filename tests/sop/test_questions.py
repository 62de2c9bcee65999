"""Question detection, zh and en: what opens the first-response SLA clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sop.questions import SCAN_LIMIT, is_question


@pytest.mark.parametrize(
    "text",
    [
        # question marks, half- and full-width, anywhere
        "真的？",
        "really?",
        "ok?!",
        "这个 ? 那个",
        "?",
        "？？？",
        "666?",
        # Chinese question words and particles
        "优惠券怎么用",
        "怎样报名",
        "如何退款",
        "为什么还没发货",
        "为啥不行",
        "这是什么",
        "在哪领",
        "哪个好",
        "几点开始",
        "多少钱",
        "能不能便宜点",
        "可不可以用两张",
        "是不是真的",
        "有没有链接",
        "VIP会员是否包含直播",
        "请问一下",
        "这是啥",
        "咋用",
        "谁有链接",
        "你好吗",
        "可以吗 谢谢",
        "可以吗～",
        "能用吗😂",
        "你呢",
        "你呢🤔",
        "那我呢",
        "吗",
        "能用吗。",
        "第一句。第二句怎么说",
        "６６６能用吗",
        # English questions starting a sentence or clause
        "How do I use a coupon",
        "what time",
        "why",
        "When does it start",
        "Where is my order",
        "who won",
        "which one",
        "can I join",
        "Could you help",
        "would it work",
        "should I wait",
        "is it open",
        "Are there seats",
        "do you ship to HK",
        "Does anyone know",
        "did it arrive",
        "will it be recorded",
        "any update",
        "ANY UPDATE",
        "hi, how are you",
        "Hi how are you",
        "so what now",
        "@admin can I join",
        "👋 how does it work",
        "ok. is it open",
        "thanks. when is the next one",
        "好的 when is the next one",
        "I see, what about tomorrow",
        "line one\nhow about this",
    ],
)
def test_questions(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "👍",
        "🎉🎉🎉",
        "hi",
        "hello everyone",
        "谢谢",
        "好的",
        "收到",
        "666",
        "早上好",
        "今天天气不错",
        "good morning",
        "thanks a lot",
        "ok",
        "lol",
        # exclamations and words that ask nothing here
        "what a great day!",
        "What a great day",
        "how nice",
        "How cool is that!",
        "怎么这么好看！",
        "太棒了！为什么不早说！",
        "I know how",
        "you know what",
        "That is why",
        "tell me when",
        "will do",
        "Do not do that",
        "is",
        "any",
        "can",
        "我什么都不知道",
        "没什么",
        "不怎么样",
        "哪怕下雨也去",
        "无论如何都要来",
        "多少有点贵",
        "怎么也打不开",
        "谁都可以",
        "没啥",
        "吗啡很贵",
        "我在吃饭呢。",
        # a question mark inside a link is no question
        "https://example.com/?a=1",
        "看这个 https://t.me/joinchat?x=1 👍",
        "www.example.com/x?y",
    ],
)
def test_not_questions(text: str) -> None:
    assert not is_question(text)


def test_a_reply_to_the_bot_is_a_question() -> None:
    assert is_question("👍", replies_to_bot=True)
    assert is_question("", replies_to_bot=True)
    assert not is_question("👍", replies_to_bot=False)


def test_only_the_start_of_a_huge_text_is_read() -> None:
    filler = "哈" * SCAN_LIMIT
    assert not is_question(filler + "怎么用?")
    assert is_question("怎么用?" + filler * 100)
    assert not is_question("ok " * 100_000)


@given(st.text(), st.booleans())
def test_never_raises_and_is_bool(text: str, replies_to_bot: bool) -> None:
    result = is_question(text, replies_to_bot=replies_to_bot)
    assert isinstance(result, bool)
    if replies_to_bot:
        assert result


@given(st.text(max_size=50), st.text(min_size=1, max_size=200))
def test_only_the_first_characters_decide(head: str, tail: str) -> None:
    text = (head + "x" * SCAN_LIMIT)[:SCAN_LIMIT]
    assert is_question(text + tail) == is_question(text)


@given(st.text(max_size=100), st.text(max_size=100))
def test_a_question_mark_always_makes_a_question(before: str, after: str) -> None:
    assert is_question(f"{before} ？{after}")  # (a link ends at the space)
