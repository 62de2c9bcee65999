"""Telegram user ids as people type them: ASCII digits within a BIGINT, nothing else."""

from __future__ import annotations

#: the largest id a BIGINT column holds (Telegram's ids are far below it)
MAX_ID = 2**63 - 1


def parse_user_id(text: str) -> int | None:
    """The id ``text`` spells, or ``None`` (``"²"``, ``"-5"``, ``"1e9"``, 30 digits…)."""
    text = text.strip()
    # the length first: int() of thousands of digits is slow, and past 4300 a ValueError
    if len(text) > len(str(MAX_ID)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
