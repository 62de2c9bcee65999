"""The overview: today against yesterday and the 7-day average, exactly as ``/kpi`` works them
out (``KpiService.report``), and the last 30 days as charts (``KpiService.daily``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.dashboard.charts import bar_chart
from bot.dashboard.page import Page, PageContext
from bot.services.console.kpi import Figure, KpiPeriod

CHART_DAYS = 30
#: (figure key, unit string key) of the charts, in order
CHARTS = (
    ("joins", "unit.people"),
    ("leaves", "unit.people"),
    ("active", "unit.people"),
    ("messages", "unit.messages"),
    ("response_median", "unit.minutes"),
    ("coupons_issued", "unit.coupons"),
    ("coupons_redeemed", "unit.coupons"),
)

_LABELS_EN = {
    "members": "Members",
    "joins": "Joins",
    "leaves": "Leaves",
    "net": "Net growth",
    "active": "Active members",
    "messages": "Messages",
    "questions": "Questions",
    "response_median": "First response median",
    "response_p90": "First response p90",
    "response_within": "Answered within SLA",
    "welcome_sla": "Welcome SLA",
    "silent": "Silent members",
    "reactivated": "Reactivated",
    "coupons_issued": "Coupons issued",
    "coupons_redeemed": "Coupons redeemed",
    "redemption_rate": "Redemption rate",
    "dm_sent": "DMs delivered",
    "dm_blocked": "Blocked the bot",
}
_LABELS_ZH = {
    "members": "成员数",
    "joins": "新加入",
    "leaves": "退出",
    "net": "净增长",
    "active": "活跃成员",
    "messages": "消息数",
    "questions": "提问数",
    "response_median": "首次响应中位数",
    "response_p90": "首次响应 P90",
    "response_within": "SLA 内回复",
    "welcome_sla": "欢迎 SLA",
    "silent": "沉默成员",
    "reactivated": "重新活跃",
    "coupons_issued": "已发放优惠券",
    "coupons_redeemed": "已核销优惠券",
    "redemption_rate": "核销率",
    "dm_sent": "私信送达",
    "dm_blocked": "屏蔽机器人",
}
STRINGS = {
    "en": {
        **{f"figure.{k}": v for k, v in _LABELS_EN.items()},
        "overview.heading": "Today {day} ({tz})",
        "overview.compare": "against yesterday and the 7-day average; ⚠ more than 20% off",
        "overview.charts": "The last {days} days",
        "overview.all": "All communities",
        "overview.no_communities": "No community is configured.",
        "unit.people": "people",
        "unit.messages": "messages",
        "unit.minutes": "minutes",
        "unit.coupons": "coupons",
    },
    "zh": {
        **{f"figure.{k}": v for k, v in _LABELS_ZH.items()},
        "overview.heading": "今日 {day}（{tz}）",
        "overview.compare": "对比昨日与 7 日均值；⚠ 偏离超过 20%",
        "overview.charts": "近 {days} 天",
        "overview.all": "全部社群",
        "overview.no_communities": "尚未配置社群。",
        "unit.people": "人",
        "unit.messages": "条",
        "unit.minutes": "分钟",
        "unit.coupons": "张",
    },
}


async def overview(ctx: PageContext) -> dict[str, Any]:
    async with ctx.transaction() as services:
        today = services.kpi.local_day(ctx.now)
        # the 30 days first: today's report is then a slice of the same raw days
        daily = await services.kpi.daily(today - timedelta(days=CHART_DAYS - 1), today, ctx.now)
        report = await services.kpi.report(KpiPeriod("today", today, today), ctx.now)
    charts = [
        bar_chart(
            key,
            ctx.t(f"figure.{key}"),
            ctx.t(unit),
            daily.days,
            daily.series[key],
            empty=ctx.t("no_data"),
            whole=key != "response_median",
        )
        for key, unit in CHARTS
    ]
    return {"report": report, "charts": charts, "chart_days": CHART_DAYS, "today": today}


async def overview_api(ctx: PageContext) -> dict[str, Any]:
    """``GET api/overview``: today's figures (value, yesterday, 7-day average) per community and
    for all of them, and the 30 days' series."""
    async with ctx.transaction() as services:
        today = services.kpi.local_day(ctx.now)
        # the 30 days first: today's report is then a slice of the same raw days
        daily = await services.kpi.daily(today - timedelta(days=CHART_DAYS - 1), today, ctx.now)
        report = await services.kpi.report(KpiPeriod("today", today, today), ctx.now)

    def figures(items: list[Figure]) -> dict[str, dict[str, Any]]:
        return {f.key: {"value": f.value, "yesterday": f.prev, "avg7": f.avg} for f in items}

    return {
        "day": today.isoformat(),
        "timezone": report.timezone,
        "communities": [
            {"chat_id": c.chat_id, "title": c.title, "figures": figures(c.figures)}
            for c in report.communities
        ],
        "all": figures(report.overall),
        "days": [d.isoformat() for d in daily.days],
        "series": daily.series,
    }


PAGE = Page(
    name="overview",
    path="",
    template="overview.html.j2",
    view=overview,
    strings=STRINGS,
    api=overview_api,
)
