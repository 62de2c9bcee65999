"""Figures as the dashboard shows them: the same forms as ``/kpi`` (templates/*/team/kpi)."""

from __future__ import annotations


def number(value: float | None, unit: str = "count") -> str:
    """``/kpi``'s value: — for none, 42%, 3.5m, +3, 12 or 12.5."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.0f}%"
    if unit == "minutes":
        return f"{value:.1f}m"
    if unit == "signed":
        return f"{round(value):+d}"
    if value == round(value):
        return str(int(value))
    return f"{value:.1f}"


def change(value: float | None) -> str:
    """``/kpi``'s comparison: ↑12%, ↓5%, →0%, – when there is nothing to compare with."""
    if value is None:
        return "–"
    if value > 0.005:
        return f"↑{value * 100:.0f}%"
    if value < -0.005:
        return f"↓{-value * 100:.0f}%"
    return "→0%"
