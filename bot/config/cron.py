"""A syntax check for five-field cron expressions (``minute hour day month weekday``).

Only the shape is checked here — numbers in range, ranges, steps, lists, month and weekday
names — so that an operator's typo is reported with the configuration, not at the first fire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CronSyntaxError", "check_cron"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    wraps: bool = False  # weekday ranges like sat-sun are read differently by cron dialects

    def value(self, token: str) -> int | None:
        """The number a token stands for, or ``None`` when it is not a valid value here."""
        lowered = token.lower()
        if lowered in self.names:
            return self.names.index(lowered) + self.low  # jan is 1, sun is 0
        if token.isascii() and token.isdigit():
            number = int(token)
            return number if self.low <= number <= self.high else None
        return None


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 7, _DAYS, wraps=True),
)
_ITEM = re.compile(r"(?P<range>\*|[^-/]+(?:-[^-/]+)?)(?:/(?P<step>[^/]*))?")


class CronSyntaxError(ValueError):
    """A cron expression is malformed; the message names the field and the bad part."""


def check_cron(expression: str) -> str:
    """Return ``expression`` normalised to single spaces, or raise :class:`CronSyntaxError`."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise CronSyntaxError(
            f"expected 5 fields 'minute hour day month weekday' like '0 8 * * *' "
            f"(got {len(fields)} in {expression!r})")
    for spec, text in zip(_FIELDS, fields):
        for item in text.split(","):
            _check_item(spec, item, text)
    return " ".join(fields)


def _check_item(spec: _Field, item: str, text: str) -> None:
    match = _ITEM.fullmatch(item)
    problem = None
    if match is None:
        problem = "is not a value, range or step"
    else:
        step = match.group("step")
        if step is not None and not (step.isascii() and step.isdigit() and int(step) > 0):
            problem = "has a step that is not a positive number"
        elif match.group("range") != "*":
            parts = match.group("range").split("-")
            bounds = [number for number in map(spec.value, parts) if number is not None]
            if len(bounds) != len(parts):
                problem = f"is not a number {spec.low}-{spec.high}"
                if spec.names:
                    problem += f" or a name like {spec.names[1]}"
            elif len(bounds) == 2 and bounds[0] > bounds[1] and spec.wraps is False:
                problem = "is a range that runs backwards"
    if problem is not None:
        raise CronSyntaxError(f"{spec.name} field {text!r}: {item!r} {problem}")
