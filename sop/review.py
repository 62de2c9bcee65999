"""Copy review (issue 15): what a configurable word list finds in a text before it is sent —
by default the 广告法's absolute terms, matched as hook keywords are (whole words for Latin
letters and digits, anywhere in Chinese: the list holds whole terms such as 第一品牌, so 第一次 or
最近 are not findings). Words marked "block" stop a send; the others warn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sop.keywords import KeywordMatcher

#: the 广告法's absolute terms (Article 9: 国家级、最高级、最佳 and the like)
ABSOLUTE_TERMS: tuple[str, ...] = (
    "最佳",
    "最好",
    "最优",
    "最强",
    "最高级",
    "最低价",
    "第一品牌",
    "唯一",
    "国家级",
    "世界级",
    "顶级",
    "极品",
    "100%有效",
    "绝对",
    "万能",
    "永久",
)


@dataclass(frozen=True)
class Findings:
    #: words found that warn (a second confirmation)
    warn: tuple[str, ...] = ()
    #: words found that block the send
    block: tuple[str, ...] = ()

    @property
    def level(self) -> str | None:
        """``block``, ``warn`` or ``None`` (nothing found)."""
        return "block" if self.block else "warn" if self.warn else None


class CopyReview:
    def __init__(self, warn: Sequence[str], block: Sequence[str] = ()) -> None:
        blocked = [w for w in dict.fromkeys(block) if w.strip()]
        warned = [w for w in dict.fromkeys(warn) if w.strip() and w not in blocked]
        self._block = frozenset(blocked)
        self._matcher = KeywordMatcher([(w, [w]) for w in (*blocked, *warned)])

    def check(self, *texts: str | None) -> Findings:
        found: dict[str, None] = {}
        for text in texts:
            if text:
                found.update(dict.fromkeys(self._matcher.match(text)))
        return Findings(
            warn=tuple(w for w in found if w not in self._block),
            block=tuple(w for w in found if w in self._block),
        )
