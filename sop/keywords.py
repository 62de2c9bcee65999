"""Keyword hooks: which hooks' keywords a chat message contains, as exact words, CJK-aware.

A keyword occurs in a text when it is a substring of it (both :func:`normalize`-d, runs of
whitespace in either counting as one space) whose edges hold: at each edge of the keyword, if the
keyword's edge character is a Latin letter or a digit, the text character beyond that edge must
not be one. So "666" occurs in "666!" and in "回复666领取" but not in "16668"; "guide" occurs in
"Guide?" but not in "guidelines"; "指南" occurs in "我要指南谢谢" (Chinese needs no spaces);
"VIP会员" needs a boundary before the "V" only.

All keywords go into one Aho–Corasick automaton, built once; a message is scanned once, in time
linear in its length whatever the number of hooks, and only the candidate hits have their edges
checked.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["KeywordMatcher", "is_word_char", "normalize"]


def normalize(text: str) -> str:
    """Casefold + NFKC: full-width ``６６６`` becomes ``666``, ``Ａ`` becomes ``a``, ``？`` becomes
    ``?``. Idempotent; shared by every matcher, so keywords and texts meet in one form."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).casefold()
    # casefolding can leave a decomposed sequence ("ΐ"); compose it back so that this is stable
    if not unicodedata.is_normalized("NFKC", folded):
        folded = unicodedata.normalize("NFKC", folded)
    return folded


def is_word_char(ch: str) -> bool:
    """A Latin letter (with or without marks: a, é, ß) or a decimal digit: the characters a
    keyword edge must not run into. CJK, kana, punctuation, emoji and spaces are not."""
    if ch.isascii():
        return ch.isalnum()
    if ch.isdecimal():
        return True
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def _canonical(keyword: str) -> str:
    return " ".join(normalize(keyword).split())


class _Pattern(NamedTuple):
    hook: int  # index of the hook in config order
    length: int  # in normalized, whitespace-collapsed characters
    left: bool  # the first character is a word character: needs a boundary before it
    right: bool  # the last character is a word character: needs a boundary after it


class KeywordMatcher:
    """Matches many hooks' keywords against a message in one pass.

    ``hooks`` are ``(hook_id, keywords)`` in config order. A hook id may appear once; a blank
    keyword is an error (it would match everything). A hook with no keywords never matches.
    """

    def __init__(self, hooks: Sequence[tuple[str, Sequence[str]]]) -> None:
        self._ids: list[str] = []
        seen: set[str] = set()
        # the automaton: state 0 is the root; goto edges, failure links, and per state the
        # patterns that end there (its own and those along its failure chain)
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        self._out: list[tuple[_Pattern, ...]] = [()]
        own: dict[int, list[_Pattern]] = {}
        for hook_id, keywords in hooks:
            if hook_id in seen:
                raise ValueError(f"hook {hook_id!r} is listed twice")
            seen.add(hook_id)
            index = len(self._ids)
            self._ids.append(hook_id)
            for keyword in dict.fromkeys(_canonical(k) for k in keywords):
                if not keyword:
                    raise ValueError(f"hook {hook_id!r} has a blank keyword")
                state = self._insert(keyword)
                own.setdefault(state, []).append(
                    _Pattern(
                        index, len(keyword), is_word_char(keyword[0]), is_word_char(keyword[-1])
                    )
                )
        self._link(own)

    @property
    def hook_ids(self) -> tuple[str, ...]:
        return tuple(self._ids)

    def match(self, text: str) -> list[str]:
        """Ids of the hooks with at least one keyword in ``text``: config order, each once."""
        s = " ".join(normalize(text).split())
        goto, fail, out = self._goto, self._fail, self._out
        last = len(s) - 1
        found: set[int] = set()
        state = 0
        for end, ch in enumerate(s):
            nxt = goto[state].get(ch)
            while nxt is None and state:
                state = fail[state]
                nxt = goto[state].get(ch)
            state = nxt or 0
            if out[state]:
                for hook, length, left, right in out[state]:
                    if hook in found:
                        continue
                    start = end - length + 1
                    if left and start > 0 and is_word_char(s[start - 1]):
                        continue
                    if right and end < last and is_word_char(s[end + 1]):
                        continue
                    found.add(hook)
        return [self._ids[h] for h in sorted(found)]

    # -- building ------------------------------------------------------------------------------

    def _insert(self, keyword: str) -> int:
        state = 0
        for ch in keyword:
            nxt = self._goto[state].get(ch)
            if nxt is None:
                nxt = len(self._goto)
                self._goto.append({})
                self._fail.append(0)
                self._out.append(())
                self._goto[state][ch] = nxt
            state = nxt
        return state

    def _link(self, own: dict[int, list[_Pattern]]) -> None:
        """Failure links breadth-first; each state's outputs include its failure state's."""
        goto, fail, out = self._goto, self._fail, self._out
        queue: deque[int] = deque()
        for child in goto[0].values():
            queue.append(child)
            out[child] = tuple(own.get(child, ()))
        while queue:
            state = queue.popleft()
            for ch, child in goto[state].items():
                f = fail[state]
                while f and ch not in goto[f]:
                    f = fail[f]
                target = goto[f].get(ch, 0)
                fail[child] = target if target != child else 0
                out[child] = tuple(own.get(child, ())) + out[fail[child]]
                queue.append(child)
