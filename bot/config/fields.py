"""Building blocks of the config models: field types and the section base."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

CROSS_CHECK_ERROR = "config_conflict"
"""pydantic error type whose ``ctx['problems']`` holds ``(loc, message)`` pairs."""


def fail(kind: str, reason: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{reason}", {"reason": reason})


def _text_from_number(value: Any) -> Any:
    """Let ``keywords: [666]`` or ``title: 2024`` mean the text the operator typed."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _whole_number(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number belongs (pydantic would read them as 1/0)."""
    if isinstance(value, bool):
        raise fail("int_type", f"expected a whole number (got {str(value).lower()})")
    return value


Text = Annotated[
    str, BeforeValidator(_text_from_number), StringConstraints(strip_whitespace=True, min_length=1)
]
Int = Annotated[int, BeforeValidator(_whole_number)]
Positive = Annotated[int, BeforeValidator(_whole_number), Field(gt=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
