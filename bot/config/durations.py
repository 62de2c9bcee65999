"""Durations as operators write them: ``30s``, ``2m``, ``1h30m``, ``7d`` or whole seconds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["Duration", "DurationError", "format_duration", "parse_duration"]

_DURATION = re.compile(
    r"\s*(?:(?P<d>[0-9]+)\s*d)?\s*(?:(?P<h>[0-9]+)\s*h)?\s*(?:(?P<m>[0-9]+)\s*m)?"
    r"\s*(?:(?P<s>[0-9]+)\s*s)?\s*",
    re.IGNORECASE,
)
_EXPECTED = "expected a duration like 30m, 2h, 7d"


class DurationError(ValueError):
    """A value is not a positive duration; the message says what was expected and what came."""


def parse_duration(value: object) -> timedelta:
    """Turn ``"1h30m"``, ``"7d"``, ``90`` (seconds) or a ``timedelta`` into a positive timedelta.

    Raises :class:`DurationError` with an operator-readable message otherwise.
    """
    try:
        result = _to_timedelta(value)
    except OverflowError:
        raise DurationError(f"{_EXPECTED} (got {_shown(value)}, which is far too long)") from None
    if result is None:
        raise DurationError(f"{_EXPECTED} (got {_shown(value)})")
    if result <= timedelta(0):
        raise DurationError(f"a duration must be longer than zero (got {_shown(value)})")
    return result


def format_duration(value: timedelta) -> str:
    """Write a timedelta the way an operator would: ``1h30m``, ``7d``, ``45s`` (``0s`` for zero)."""
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + ("".join(parts) or "0s")


def _to_timedelta(value: object) -> timedelta | None:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return timedelta(seconds=int(text))
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        return None
    amounts = {unit: int(amount or 0) for unit, amount in match.groupdict().items()}
    return timedelta(
        days=amounts["d"], hours=amounts["h"], minutes=amounts["m"], seconds=amounts["s"]
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validate(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise PydanticCustomError("duration", "{reason}", {"reason": str(exc)}) from None


Duration = Annotated[timedelta, BeforeValidator(_validate)]
"""A positive ``timedelta`` field that accepts the operator's notation."""
