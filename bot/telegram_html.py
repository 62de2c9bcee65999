"""Telegram's HTML parse mode is a small strict subset; check rendered text against it before
it is queued, so a template Telegram would refuse fails here, loudly, not at send time."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)


#: bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069),
#: the marks (U+200E, U+200F, U+061C). A name holding U+202E shows the rest of a greeting
#: reversed ("\u202eevil" reads "live"); a name needs none of them to be shown right.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_NO_BIDI = {ord(ch): None for ch in BIDI_CONTROLS}


def strip_bidi_controls(text: str) -> str:
    """``text`` without :data:`BIDI_CONTROLS`."""
    return text.translate(_NO_BIDI)


class TelegramHtmlError(ValueError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise TelegramHtmlError(f"unsupported tag <{tag}>")
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise TelegramHtmlError('<span> needs class="tg-spoiler"')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing tag <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise TelegramHtmlError(f"unexpected </{tag}>")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise TelegramHtmlError("a bare '<' (write &lt;)")
        if "&" in data:
            raise TelegramHtmlError("a bare '&' (write &amp;)")
        self.visible += len(data)

    def handle_entityref(self, name: str) -> None:
        self.visible += 1 if name in ("lt", "gt", "amp", "quot") else len(name) + 2

    def handle_charref(self, name: str) -> None:
        self.visible += 1


def visible_length(text: str) -> int:
    """Characters the recipient sees; raises :class:`TelegramHtmlError` for what Telegram
    would refuse (unknown or unbalanced tags)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise TelegramHtmlError(f"<{checker.open[-1]}> is never closed")
    if "<" in checker.rawdata:  # left unparsed at the end: a tag that never closes its '>'
        raise TelegramHtmlError("a bare '<' (write &lt;)")
    return checker.visible
