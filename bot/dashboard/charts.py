"""Server-rendered SVG charts: bars per day with axes, the unit, and each day's value on hover
(``<title>``) or tap (``data-tip``, shown by static/dashboard.js). Text is the page's font, so
Chinese labels render as the browser renders Chinese."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 420, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 30, 28


def nice_step(top: float, ticks: int = 4, *, whole: bool = False) -> float:
    """A round step (1, 2, 5 × 10ⁿ) that puts about ``ticks`` lines under ``top``; at least 1
    when ``whole`` (counts)."""
    if top <= 0:
        return 1
    raw = max(top / ticks, 1.0) if whole else top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _label(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def bar_chart(
    key: str,
    title: str,
    unit: str,
    days: Sequence[date],
    values: Sequence[float | None],
    *,
    empty: str,
    whole: bool = True,
) -> Markup:
    """One chart: a bar per day (none on a day without a value), y axis in ``unit``;
    ``whole``: the values are counts (whole ticks)."""
    known = [v for v in values if v is not None]
    top_value = max(known, default=0)
    step = nice_step(top_value, whole=whole)
    top = step * max(1, math.ceil(top_value / step)) if top_value > 0 else step * 4
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(days))

    def y(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg class="chart" data-chart="{escape(key)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="4" y="17">{escape(title)}</text>',
        f'<text class="chart-unit" x="{WIDTH - RIGHT}" y="17" text-anchor="end">'
        f"{escape(unit)}</text>",
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="tick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{_label(tick)}</text>'
        )
        tick += step
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}"/>'
    )
    every = max(1, math.ceil(len(days) / 6))
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        x = LEFT + i * slot
        shown = empty if value is None else f"{_label(round(value, 1))} {unit}"
        tip = f"{day.isoformat()}: {shown}"
        if value is not None and value > 0:
            h = value / top * plot_h
            parts.append(
                f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}"/>'
            )
        # the whole day's column answers hover and tap, however low its bar
        parts.append(
            f'<rect class="hit" x="{x:.1f}" y="{TOP}" width="{slot:.1f}" height="{plot_h}" '
            f'data-day="{day.isoformat()}" data-value="{"" if value is None else _label(value)}" '
            f'data-tip="{escape(tip)}"><title>{escape(tip)}</title></rect>'
        )
        if i % every == 0 or i == len(days) - 1:
            parts.append(
                f'<text class="tick" x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 15}" '
                f'text-anchor="middle">{day.strftime("%m-%d")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
