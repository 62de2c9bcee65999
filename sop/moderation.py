"""Community order, the pure half: what a message breaks, and which alert level it raises.

:class:`ContentRules` is compiled once per config (per distinct ``moderation`` of a community):
banned words go into one :class:`~sop.keywords.KeywordMatcher` (so they match as hook keywords
do: NFKC, casefolded, exact words for Latin letters and digits, anywhere in Chinese), and the
text is scanned twice when :func:`~sop.disguise.fold` changes it — as written and with its
disguises undone. Contact details (a WeChat id, a QQ or phone number) count only after a trigger
word (微信, QQ, 电话, whatsapp…), so order numbers and prices are left alone. Links are a
newcomer's offence only (the caller says whether the sender is one).

:class:`AlertWords` finds complaint and crisis words; the most severe level wins.

Nothing here reads a clock, stores text or knows aiogram: text and facts in, a finding out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sop.disguise import fold
from sop.keywords import KeywordMatcher, normalize

__all__ = [
    "ALERT_LEVELS",
    "AlertWords",
    "ContentRules",
    "Finding",
    "MessageFacts",
    "has_link",
]

#: the alert levels, least severe first
ALERT_LEVELS: tuple[str, ...] = ("complaint", "dispute", "incident")

#: words after which a contact detail is a contact offer (folded forms: 薇信 is 微信 by then)
CONTACT_TRIGGERS: tuple[str, ...] = (
    "微信",
    "加我",
    "qq",
    "电话",
    "手机",
    "联系",
    "私聊",
    "私信",
    "tel",
    "phone",
    "whatsapp",
    "telegram",
    "tg",
    "line",
    "call",
    "dm me",
    "text me",
    "contact",
)
#: what follows the trigger before the detail: a few characters of the same line
_GAP = r"[^\n]{0,8}?"
#: a WeChat id (a letter, then 4-19 of letters, digits, _ and -, with a digit, _ or - among
#: them: plain words are not ids), a mainland mobile number, any other phone number, a QQ number
_DETAIL = (
    r"(?<![a-z0-9_])(?:"
    r"[a-z](?=[a-z]*[0-9_-])[a-z0-9_-]{4,19}"
    r"|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"
    r"|\+\d{1,3}[\s-]?\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}"
    r"|[1-9]\d{4,10}"
    r")(?![a-z0-9_])"
)
_LINK_TEXT = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?:t\.me|telegram\.me|telegram\.dog)/\S+"
    r"|(?<![a-z0-9@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|cn|io|me|xyz|top|cc|co|info|biz|vip|shop|site|online|club|app|ly|gl|ru|"
    r"tk|ml|link|live|pro|store|tv|hk|tw|sg|us|uk|de|jp)(?:/\S*)?(?![a-z0-9-])"
)


@dataclass(frozen=True)
class MessageFacts:
    """What the handler read off the message besides its text (no text kept)."""

    #: a ``url`` or ``text_link`` entity in the text or the caption
    link_entity: bool = False
    #: forwarded from a channel or another chat
    forwarded_from_chat: bool = False
    #: a sticker or a GIF (``animation``): counted by ``moderation.stickers`` when set
    sticker: bool = False


@dataclass(frozen=True)
class Finding:
    """What a message broke: ``rule`` is ``banned_word``, ``contact`` or ``link``; ``detail``
    names the config entry (a banned word as configured), never the message's text."""

    rule: str
    detail: str = ""


def has_link(text: str, facts: MessageFacts) -> bool:
    """A link entity, a forward from a chat, a t.me invite or a bare domain in ``text``."""
    if facts.link_entity or facts.forwarded_from_chat:
        return True
    if "." not in text and "/" not in text:
        return False
    return _LINK_TEXT.search(normalize(text)) is not None


class ContentRules:
    """Banned words (with their disguises) and contact offers, compiled once."""

    def __init__(
        self,
        banned_words: Sequence[str],
        *,
        contacts: bool = True,
        contact_triggers: Sequence[str] = (),
    ) -> None:
        self._words = list(dict.fromkeys(w for w in banned_words if w.strip()))
        specs: dict[str, list[str]] = {}
        for index, word in enumerate(self._words):
            plain = normalize(word)
            specs[str(index)] = list(dict.fromkeys([plain, fold(plain)]))
        self._matcher = KeywordMatcher(list(specs.items())) if specs else None
        self._contacts: re.Pattern[str] | None = None
        if contacts:
            triggers = [fold(normalize(t)) for t in (*CONTACT_TRIGGERS, *contact_triggers)]
            alternatives = "|".join(
                re.escape(t) for t in sorted(set(triggers), key=len, reverse=True) if t
            )
            self._contacts = re.compile(rf"(?:{alternatives}){_GAP}{_DETAIL}")

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self._words)

    def check(self, text: str) -> Finding | None:
        """The first rule ``text`` breaks (banned words before contacts), or ``None``."""
        if not text:
            return None
        plain = " ".join(normalize(text).split())
        folded = fold(plain)
        if self._matcher is not None:
            hits = self._matcher.match(plain)
            if not hits and folded != plain:
                hits = self._matcher.match(folded)
            if hits:
                return Finding("banned_word", self._words[int(hits[0])])
        if self._contacts is not None and self._contacts.search(folded) is not None:
            return Finding("contact")
        return None


class AlertWords:
    """Complaint and crisis words by level; :meth:`level` gives the most severe one found."""

    def __init__(self, keywords: Mapping[str, Sequence[str]]) -> None:
        ordered = [
            (level, [w for w in keywords.get(level, ()) if w.strip()])
            for level in reversed(ALERT_LEVELS)
        ]
        self._matcher = KeywordMatcher([(lvl, words) for lvl, words in ordered if words])

    def level(self, text: str) -> str | None:
        if not text:
            return None
        hits = self._matcher.match(text)
        return hits[0] if hits else None
