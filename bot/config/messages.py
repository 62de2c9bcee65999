"""pydantic validation errors retold in plain operator English, each with where it belongs."""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from bot.config.community import CommunityConfig
from bot.config.fields import CROSS_CHECK_ERROR
from bot.config.keys import Loc

__all__ = ["Problem", "problems_from_errors"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: where (``loc``) and what (``message``)."""

    loc: Loc
    message: str
    missing: bool = False


def problems_from_errors(errors: list[ErrorDetails]) -> list[Problem]:
    """Translate pydantic errors; a missing key an unknown key's suggestion explains is dropped."""
    problems: list[Problem] = []
    suggested: set[Loc] = set()
    for error in errors:
        loc: Loc = tuple(error["loc"])
        if error["type"] == CROSS_CHECK_ERROR:
            ctx = error.get("ctx") or {}
            problems += [Problem(tuple(where), text) for where, text in ctx.get("problems", ())]
        elif error["type"] == "extra_forbidden":
            message, suggestion = _unknown_key(loc)
            if suggestion is not None:
                suggested.add((*loc[:-1], suggestion))
            problems.append(Problem(loc, message))
        else:
            problems.append(Problem(loc, _message(error), missing=error["type"] == "missing"))
    return [problem for problem in problems if not (problem.missing and problem.loc in suggested)]


def _unknown_key(loc: Loc) -> tuple[str, str | None]:
    name = str(loc[-1]) if loc else "?"
    allowed = _keys_at(loc[:-1])
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key {name!r}; did you mean {close[0]!r}?", close[0]
    if allowed:
        return f"unknown key {name!r}; the keys here are: {', '.join(allowed)}", None
    return f"unknown key {name!r}", None


def _message(error: ErrorDetails) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    got = f" (got {_shown(value)})"
    fixed = {
        "missing": "this required key is missing",
        "invalid_key": "keys must be text",
        "string_too_short": "must not be empty",
        "recursion_loop": "refers to itself through a YAML alias",
    }
    by_expectation = {
        "int_type": "expected a whole number",
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "string_type": "expected text",
        "list_type": "expected a list",
        "set_type": "expected a list",
        "frozen_set_type": "expected a list",
        "model_type": "expected a mapping of keys",
        "model_attributes_type": "expected a mapping of keys",
        "dict_type": "expected a mapping of keys",
    }
    if kind in fixed:
        return fixed[kind]
    if kind in by_expectation:
        return by_expectation[kind] + got
    if kind == "too_short":
        count = ctx.get("min_length", 1)
        return f"must list at least {count} item{'s' if count != 1 else ''}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the listed values')}{got}"
    bounds = {
        "greater_than": ("gt", "greater than"),
        "greater_than_equal": ("ge", "at least"),
        "less_than": ("lt", "less than"),
        "less_than_equal": ("le", "at most"),
    }
    if kind in bounds:
        name, words = bounds[kind]
        return f"must be {words} {ctx.get(name)}{got}"
    message = error["msg"]
    if "url" not in error:  # raised by our validators: already worded for operators
        return message
    return message[:1].lower() + message[1:] + got


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _keys_at(loc: Loc) -> list[str]:
    """Field names of the section at ``loc``, or ``[]`` when it is not a section."""
    annotation: Any = CommunityConfig
    for part in loc:
        annotation = _strip(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (list, frozenset, set, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _strip(annotation: Any) -> Any:
    """Remove ``Annotated[...]`` and ``| None`` around a type."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
