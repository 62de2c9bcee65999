"""Where a value sits in the configuration: pydantic-style ``loc`` tuples and their dotted names."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Loc", "dotted_key"]

Loc = tuple[str | int, ...]
"""A path into the YAML document: mapping keys (``str``) and list indices (``int``)."""

DICT_KEY_MARK = "[key]"
"""What pydantic appends to a ``loc`` when a mapping's key (not its value) is wrong."""


def dotted_key(loc: Sequence[str | int]) -> str:
    """``('communities', 0, 'chat_id')`` -> ``communities[0].chat_id``; ``()`` -> ``""``."""
    out = ""
    for part in loc:
        if part == DICT_KEY_MARK:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
