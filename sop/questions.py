"""Is a member's chat message a question? (It opens the first-response SLA clock.)

Chinese and English, on :func:`~sop.keywords.normalize`-d text (so ``？！，`` read as ``?!,``):

- a question mark anywhere (outside links: ``https://x.com/?a=1`` is no question);
- a reply to the bot;
- per sentence (split at ``. ! 。`` and line breaks), unless it ends with ``!`` (an exclamation):
  a Chinese question word (怎么, 如何, 为什么, 什么, 哪, 多少, 是不是, 请问…, minus the
  idioms where it asks nothing: 不怎么, 没什么, 什么都, 哪怕, 无论如何, 多少有点…), 吗 ending
  a clause, 呢 ending a sentence not closed by 。 ("我在吃饭呢。" states); or an English
  clause that starts with a question word (what, how, why…), or with an auxiliary (can, is,
  do, will, any…) followed by a word other than "not", "do"… ("will do" answers). Leading
  fillers ("hi", "so", "好的", "@admin", emoji) do not count as the start; "what a …" and
  "how nice" exclaim.

Only the first :data:`SCAN_LIMIT` characters are read, so a 10,000-character paste costs no more
than a long message.
"""

from __future__ import annotations

import re

from sop.keywords import normalize

__all__ = ["SCAN_LIMIT", "is_question"]

#: characters of a message that are looked at
SCAN_LIMIT = 1000

_LINK = re.compile(r"(?:https?://|www\.|t\.me/)\S*")
_SENTENCE = re.compile(r"([^.!。\n…]*)([.!。\n…]*)")
_CLAUSE_BREAK = re.compile(r"[,;:、]")

_ZH_IDIOMS = re.compile(
    "|".join(
        sorted(
            (
                "不怎么",
                "怎么也",
                "怎么都",
                "没什么",
                "什么都",
                "什么也",
                "不算什么",
                "哪怕",
                "哪里哪里",
                "无论如何",
                "多少有点",
                "多多少少",
                "没啥",
                "谁都",
                "谁也",
            ),
            key=len,
            reverse=True,
        )
    )
)
_ZH_WORDS = re.compile(
    "|".join(
        (
            "怎么",
            "怎样",
            "如何",
            "为什么",
            "为啥",
            "什么",
            "哪",
            "几点",
            "多少",
            "能不能",
            "可不可以",
            "是不是",
            "有没有",
            "是否",
            "请问",
            "啥",
            "咋",
            "谁",
        )
    )
)
_ZH_MA = re.compile(r"吗(?![\w])")  # 吗 ending a clause (吗啡 is morphine)
_ZH_NE = re.compile(r"呢[\W_]*$")  # 呢 ending the sentence (emoji after it allowed)

_EN_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_EN_WH = frozenset(("what", "how", "why", "when", "where", "who", "which"))
_EN_AUX = frozenset(
    ("can", "could", "would", "should", "is", "are", "do", "does", "did", "will", "any")
)
_EN_FILLERS = frozenset(
    (
        "hi",
        "hello",
        "hey",
        "yo",
        "ok",
        "okay",
        "so",
        "and",
        "but",
        "also",
        "btw",
        "sorry",
        "um",
        "well",
        "please",
        "pls",
        "plz",
        "guys",
        "admin",
        "excuse",
        "me",
        "sir",
        "oh",
        "好的",
        "好",
        "嗯",
        "哦",
        "谢谢",
        "那",
    )
)
_EN_NOT_AFTER_AUX = frozenset(("not", "never", "do", "so", "too"))
_EN_EXCLAIM_AFTER = {
    "what": frozenset(("a", "an")),
    "how": frozenset(
        (
            "nice",
            "cool",
            "great",
            "lovely",
            "sweet",
            "beautiful",
            "cute",
            "kind",
            "awesome",
            "funny",
            "sad",
            "amazing",
            "wonderful",
            "interesting",
        )
    ),
}


def is_question(text: str, *, replies_to_bot: bool = False) -> bool:
    """True when ``text`` asks something (or answers the bot, which is the bot's to handle)."""
    if replies_to_bot:
        return True
    s = _LINK.sub(" ", normalize(text[:SCAN_LIMIT]))
    if "?" in s:
        return True
    for match in _SENTENCE.finditer(s):
        body, end = match.groups()
        if body.strip() and "!" not in end and _sentence_asks(body, statement="。" in end):
            return True
    return False


def _sentence_asks(body: str, *, statement: bool) -> bool:
    zh = _ZH_IDIOMS.sub(" ", body)
    if _ZH_WORDS.search(zh) or _ZH_MA.search(zh) or (not statement and _ZH_NE.search(zh)):
        return True
    return any(_clause_starts_a_question(c) for c in _CLAUSE_BREAK.split(body))


def _clause_starts_a_question(clause: str) -> bool:
    words = [w for w in (_EN_EDGE.sub("", raw) for raw in clause.split()[:8]) if w]
    while words and words[0] in _EN_FILLERS:
        words.pop(0)
    if not words:
        return False
    first, after = words[0], words[1] if len(words) > 1 else None
    if first in _EN_WH:
        return after not in _EN_EXCLAIM_AFTER.get(first, ())
    if first in _EN_AUX:
        return after is not None and after not in _EN_NOT_AFTER_AUX
    return False
