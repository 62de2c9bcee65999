"""``/kpi chart``: a PNG of the last days' joins, active members and coupon redemptions
(Pillow, its built-in font: nothing fetched at run time)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from bot.services.console.kpi import ChartSeries

WIDTH, HEIGHT = 900, 560
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 70, 30, 70, 90
_LINES = (("joins", (37, 99, 235)), ("active", (22, 163, 74)), ("redemptions", (234, 88, 12)))
_GRID = (226, 232, 240)
_TEXT = (30, 41, 59)


def render_chart(series: ChartSeries) -> bytes:
    """A line chart, one line per figure, days along the bottom; PNG bytes. Titles (community
    names may be Chinese, which the built-in font cannot draw) go in the message caption."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = _font()
    if series.days:
        draw.text(
            (_MARGIN_LEFT, 24),
            f"{series.days[0].isoformat()} - {series.days[-1].isoformat()}",
            fill=_TEXT,
            font=font,
        )
    values = {"joins": series.joins, "active": series.active, "redemptions": series.redemptions}
    top = max([1, *series.joins, *series.active, *series.redemptions])
    step = _nice_step(top)
    top = step * -(-top // step)
    left, right = _MARGIN_LEFT, WIDTH - _MARGIN_RIGHT
    upper, lower = _MARGIN_TOP, HEIGHT - _MARGIN_BOTTOM
    n = len(series.days)

    def x(index: int) -> float:
        return left + (right - left) * (index / max(1, n - 1))

    def y(value: int) -> float:
        return lower - (lower - upper) * value / top

    for tick in range(0, top + 1, step):
        draw.line([(left, y(tick)), (right, y(tick))], fill=_GRID)
        draw.text((10, y(tick) - 6), f"{tick}", fill=_TEXT, font=font)
    for index, day in enumerate(series.days):
        if n <= 14 or index % 2 == 0:
            draw.text((x(index) - 14, lower + 8), day.strftime("%m-%d"), fill=_TEXT, font=font)
    for name, colour in _LINES:
        points = [(x(i), y(v)) for i, v in enumerate(values[name])]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3)
        for px, py in points:
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=colour)
    for index, (name, colour) in enumerate(_LINES):
        lx = left + index * 180
        draw.rectangle([lx, HEIGHT - 40, lx + 14, HEIGHT - 28], fill=colour)
        draw.text((lx + 20, HEIGHT - 41), name, fill=_TEXT, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=15)  # the bundled scalable font (FreeType)
    except (OSError, TypeError):  # Pillow built without FreeType: the bitmap font
        return ImageFont.load_default()


def _nice_step(top: int) -> int:
    """A grid step of 1, 2 or 5 times a power of ten giving four to ten lines."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if top / step <= 8:
                return step
        magnitude *= 10
