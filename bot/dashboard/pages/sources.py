"""Sources: the funnel by member source (joined → started the bot → got the gift → redeemed →
ordered) and how many of each source's joiners were still active 7 and 30 days after they
arrived (``SourcesQuery.funnel``, kept as a snapshot: ``Snapshots``)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared
from bot.services.dashboard.sources import RETENTION_DAYS


async def view(ctx: PageContext) -> dict[str, Any]:
    days = shared.period(ctx)
    async with ctx.transaction() as services:
        kept = await services.dashboard_reads.snapshots.sources(days, ctx.now)
    return {
        "report": kept.figures,
        "as_of": shared.when(ctx)(kept.computed_at),
        "days": days,
        "periods": shared.PERIODS,
        "retention_days": RETENTION_DAYS,
        "share": shared.share,
    }


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.sources": "Sources",
        "sources.heading": "Where members come from",
        "sources.explain": "Members first seen {first} – {last}, by the source they came "
        "from; each step as a share of those who joined.",
        "sources.source": "Source",
        "sources.step.joined": "Joined",
        "sources.step.started": "Started the bot",
        "sources.step.gifted": "Got the gift",
        "sources.step.redeemed": "Redeemed",
        "sources.step.ordered": "Ordered",
        "sources.retained": "Active after {days} days",
        "sources.retained_explain": "Of those who arrived at least {days} days ago, how many "
        "spoke {days} days or more after arriving.",
        "sources.total": "All sources",
        "sources.unknown": "(unknown)",
        "sources.none": "Nobody joined in this period.",
        "shared.as_of": "Figures as of {at} (worked out again every few minutes)",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.sources": "来源",
        "sources.heading": "成员来源",
        "sources.explain": "{first} – {last} 首次出现的成员，按来源统计；"
        "每一步均为占加入人数的比例。",
        "sources.source": "来源",
        "sources.step.joined": "加入",
        "sources.step.started": "启动机器人",
        "sources.step.gifted": "领取礼包",
        "sources.step.redeemed": "核销",
        "sources.step.ordered": "下单",
        "sources.retained": "{days} 天后仍活跃",
        "sources.retained_explain": "至少 {days} 天前加入的成员中，加入 {days} 天后仍发言的人数。",
        "sources.total": "全部来源",
        "sources.unknown": "（未知）",
        "sources.none": "此期间没有新成员。",
        "shared.as_of": "数据截至 {at}（每隔几分钟重新计算）",
    },
}

PAGE = Page(name="sources", path="sources", template="sources.html.j2", view=view, strings=STRINGS)
