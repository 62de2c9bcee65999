"""FAQ matching: which operator-written question, if any, a member's question is asking.

Texts become sets of features (:func:`faq_features`): Chinese by its characters and character
bigrams (no spaces needed; the characters let "怎么改地址" meet "如何修改收货地址"), other
scripts by words, lowercased, with the plural ``s`` dropped; question words and other function
words are left out on both sides, so "怎么" or "how do I" alone never make two questions alike.
Each feature weighs its inverse document frequency across the FAQ questions; the score is the
cosine of the two weighted vectors.

An inverted index (feature → the entries that have it, ordered by the entry's norm) means a
message only touches the entries that share a feature with it and whose norm lets them reach the
threshold at all; the rarest features go first, and the common ones' long lists are not walked
once they could no longer bring in a new entry. Both cuts are exact: the answer is what scoring
every entry would give (a test checks it against that).
"""

from __future__ import annotations

import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from sop.keywords import normalize

__all__ = ["DEFAULT_THRESHOLD", "SCAN_LIMIT", "FaqEntry", "FaqMatch", "FaqMatcher", "faq_features"]

#: the least cosine similarity that counts as a match
DEFAULT_THRESHOLD = 0.45
#: characters of a message that are looked at
SCAN_LIMIT = 1000

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: a run of Chinese characters, or a word of any other script
_TOKEN = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+)")
_LINK = re.compile(r"(?:https?://|www\.|t\.me/)\S*")
_ZH_STOP = re.compile(
    "|".join(
        sorted(
            (
                # question words and particles
                "请问",
                "怎么",
                "怎样",
                "如何",
                "为什么",
                "为啥",
                "什么",
                "哪里",
                "哪儿",
                "哪个",
                "是不是",
                "有没有",
                "能不能",
                "可不可以",
                "是否",
                "吗",
                "呢",
                "吧",
                "啊",
                "呀",
                "哦",
                "嘛",
                "啥",
                "咋",
                # pronouns, politeness, filler
                "我们",
                "你们",
                "大家",
                "我",
                "你",
                "您",
                "他",
                "她",
                "的",
                "了",
                "一下",
                "可以",
                "谢谢",
                "你好",
                "这个",
                "那个",
                "怎么办",
                "哪些",
                "有哪些",
            ),
            key=len,
            reverse=True,
        )
    )
)
_EN_STOP = frozenset(
    (
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "is",
        "are",
        "am",
        "was",
        "be",
        "do",
        "does",
        "did",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "with",
        "at",
        "by",
        "from",
        "about",
        "this",
        "that",
        "there",
        "any",
        "some",
        "can",
        "could",
        "would",
        "should",
        "will",
        "please",
        "pls",
        "how",
        "what",
        "why",
        "when",
        "where",
        "who",
        "which",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "everyone",
        "guys",
        "admin",
        "if",
        "so",
        "get",
    )
)


def faq_features(text: str) -> frozenset[str]:
    """The features a text is compared by (empty when it says nothing but function words)."""
    s = _ZH_STOP.sub(" ", _LINK.sub(" ", normalize(text[:SCAN_LIMIT])))
    features: set[str] = set()
    for han, word in _TOKEN.findall(s):
        if han:
            features.update(han)
            features.update(map(operator.add, han, han[1:]))
        elif len(word) > 1 and word not in _EN_STOP:
            if len(word) > 3 and word[-1] == "s" and word[-2] not in "su":
                word = word[:-1]
            features.add(word)
    return frozenset(features)


@dataclass(frozen=True)
class FaqEntry:
    question: str
    answer: str


@dataclass(frozen=True)
class FaqMatch:
    index: int  # into the entries the matcher was built from
    score: float  # cosine similarity, 0..1


class FaqMatcher:
    """The FAQ entry most similar to a message, if similar enough (``threshold``, 0..1).

    An entry whose question has no features (only function words, emoji) can never match.
    """

    def __init__(
        self, entries: Sequence[FaqEntry], *, threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        self._threshold = threshold
        documents = [faq_features(e.question) for e in entries]
        n = len(documents)
        df: dict[str, int] = {}
        for features in documents:
            for feature in features:
                df[feature] = df.get(feature, 0) + 1
        #: smoothed IDF; a feature no question has weighs as much as the rarest one could
        self._unseen = math.log(1 + n) + 1
        self._idf = {f: math.log((1 + n) / (1 + count)) + 1 for f, count in df.items()}
        self._norms = [
            math.sqrt(sum(self._idf[f] ** 2 for f in sorted(features))) for features in documents
        ]
        # postings ordered by the entry's norm, so that a query only visits the entries whose
        # norm allows the threshold at all: cos <= min(|q|, |e|) / max(|q|, |e|)
        self._documents = documents
        self._max_norm = max(self._norms, default=0.0)
        self._postings: dict[str, tuple[list[int], list[float]]] = {}
        for index in sorted(range(n), key=lambda i: (self._norms[i], i)):
            for feature in documents[index]:
                indices, norms = self._postings.setdefault(feature, ([], []))
                indices.append(index)
                norms.append(self._norms[index])

    @property
    def threshold(self) -> float:
        return self._threshold

    def best(self, text: str) -> FaqMatch | None:
        """The most similar entry (the lowest index among equals), or None below the threshold."""
        query = sorted(faq_features(text))
        if not query:
            return None
        idf, unseen = self._idf, self._unseen
        known: list[tuple[str, float]] = []
        query_norm = 0.0
        for feature in query:
            weight = idf.get(feature)
            if weight is None:
                query_norm += unseen * unseen
            else:
                square = weight * weight
                query_norm += square
                known.append((feature, square))
        query_norm = math.sqrt(query_norm)
        slack = self._threshold * (1 - 1e-9)
        low, high = query_norm * slack, query_norm / slack
        if low > self._max_norm:
            return None  # too long a text for any entry to be that similar
        # rarest features first; once the features left weigh too little for an entry that has
        # none of the ones seen so far to reach the threshold, only the entries already found
        # are scored on them (a common feature's long posting list is never walked)
        known.sort(key=lambda item: (-item[1], item[0]))
        admit = (slack * query_norm) ** 2
        left = sum(square for _, square in known)
        dots: dict[int, float] = {}
        rest = 0
        for feature, square in known:
            if left < admit:
                break
            left -= square
            rest += 1
            indices, norms = self._postings[feature]
            for index in indices[bisect_left(norms, low) : bisect_right(norms, high)]:
                dots[index] = dots.get(index, 0.0) + square
        if rest < len(known):
            documents = self._documents
            for index, dot in list(dots.items()):
                features = documents[index]
                for feature, square in known[rest:]:
                    if feature in features:
                        dot += square
                dots[index] = dot
        if not dots:
            return None
        norms = self._norms
        best_index, best_score = -1, 0.0
        for index, dot in dots.items():
            # rounded so that float noise neither breaks a tie nor keeps an identical text at
            # 0.9999999999999998
            score = round(dot / (query_norm * norms[index]), 12)
            if score > best_score or (score == best_score and index < best_index):
                best_index, best_score = index, score
        if best_score < self._threshold:
            return None
        return FaqMatch(best_index, min(best_score, 1.0))
