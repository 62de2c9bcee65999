"""Telegram's ``parse_mode=HTML``: the strict subset it accepts, turned into text + entities.

Telegram rejects anything outside its tag list, unbalanced tags and a bare ``<``; the error
descriptions here follow the real ones (``can't parse entities: Unsupported start tag "br" at
byte offset 5``). Unknown ``&name;`` entities stay literal text, as in Telegram.
"""

from __future__ import annotations

import html as std_html
import re
from dataclasses import dataclass
from typing import Any

#: tag -> entity type (``None``: decided by attributes).
_TAGS: dict[str, str | None] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": None,
    "code": "code",
    "pre": "pre",
    "blockquote": None,
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START = re.compile(r"<([a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_END = re.compile(r"</([a-zA-Z0-9-]*)\s*>")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_ATTR = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; ``str(err)`` is Telegram's detail."""


@dataclass(frozen=True)
class Parsed:
    """Plain text as the recipient sees it, and its entities (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _attrs(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in _ATTR.findall(raw):
        if value[:1] in "\"'" and value:
            value = value[1:-1]
        found[name.lower()] = std_html.unescape(value)
    return found


def _entity(tag: str, attrs: dict[str, str], offset: int, length: int) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href")
        if not href:
            return None
        entity.update(type="text_link", url=href)
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    elif tag == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=attrs.get("emoji-id", ""))
    else:
        entity["type"] = _TAGS[tag]
    return entity


def _check_start(tag: str, attrs: dict[str, str], byte_offset: int) -> None:
    if tag not in _TAGS:
        raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}')
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise HtmlError("Invalid custom emoji identifier specified")


def parse_html(text: str) -> Parsed:
    """Parse Telegram HTML; raise :class:`HtmlError` where Telegram would refuse it."""
    out: list[str] = []
    utf16 = 0
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            offset = _byte_offset(text, i)
            if text.startswith("</", i):
                match = _END.match(text, i)
                if match is None:
                    raise HtmlError(f"Unclosed end tag at byte offset {offset}")
                tag = match.group(1).lower()
                if not stack:
                    raise HtmlError(f"Unexpected end tag at byte offset {offset}")
                open_tag, attrs, start = stack.pop()
                if tag != open_tag:
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {offset}, "
                        f'expected "</{open_tag}>", found "</{tag}>"'
                    )
                entity = _entity(open_tag, attrs, start, utf16 - start)
                if entity is not None and entity["length"] > 0:
                    entities.append(entity)
            else:
                match = _START.match(text, i)
                name = re.match(r"[a-zA-Z0-9-]*", text[i + 1 :])
                tag = (name.group(0) if name else "").lower()
                if match is None:
                    if tag in _TAGS:
                        raise HtmlError(f"Unclosed start tag at byte offset {offset}")
                    raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {offset}')
                attrs = _attrs(match.group(2))
                _check_start(tag, attrs, offset)
                stack.append((tag, attrs, utf16))
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(text, i)
            decoded = _decode_entity(match.group(1)) if match else None
            if match is not None and decoded is not None:
                out.append(decoded)
                utf16 += _utf16_len(decoded)
                i = match.end()
                continue
        out.append(char)
        utf16 += _utf16_len(char)
        i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return Parsed("".join(out), entities)


def _decode_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED.get(body.lower())
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)
