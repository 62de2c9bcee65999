"""What the operators' pages share: times in the community's zone, shares, page numbers and
the period a page looks at (the query's ``days``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.dashboard.page import PageContext

#: the periods a page offers (days); the first is the default
PERIODS = (30, 7, 90)


def when(ctx: PageContext) -> Callable[[datetime | None], str]:
    """``06-12 09:30`` in the config's zone (— for none): for the templates."""
    tz = ctx.config.tz

    def shown(at: datetime | None) -> str:
        return "—" if at is None else at.astimezone(tz).strftime("%m-%d %H:%M")

    return shown


def share(part: int, whole: int) -> str:
    """``40%`` of the whole (— when there is no whole), as /kpi shows a share."""
    return "—" if whole <= 0 else f"{part * 100 / whole:.0f}%"


def number_arg(ctx: PageContext, name: str, default: int, *, most: int = 10_000) -> int:
    """A positive integer from the query (``page=3``), else ``default``."""
    text = ctx.query.get(name, "")
    # no longer than ``most`` is written (a thousand digits are not turned into a number)
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(most))):
        return default
    number = int(text)
    return number if 0 < number <= most else default


def period(ctx: PageContext) -> int:
    days = number_arg(ctx, "days", PERIODS[0], most=366)
    return days if days in PERIODS else PERIODS[0]


STRINGS = {
    "en": {
        "shared.period": "Period",
        "shared.days": "{days} days",
        "shared.more": "Next page",
        "shared.back": "Previous page",
        "shared.page": "Page {page}",
        "shared.none": "Nothing to show.",
    },
    "zh": {
        "shared.period": "时间范围",
        "shared.days": "{days} 天",
        "shared.more": "下一页",
        "shared.back": "上一页",
        "shared.page": "第 {page} 页",
        "shared.none": "暂无内容。",
    },
}
