"""Coupons: each campaign's codes issued in the period and how many were redeemed, by the
source that issued them (``CouponsQuery``: ``/coupon stats`` over a period; kept as a
snapshot: ``Snapshots``)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared


async def view(ctx: PageContext) -> dict[str, Any]:
    days = shared.period(ctx)
    async with ctx.transaction() as services:
        kept = await services.dashboard_reads.snapshots.coupons(days, ctx.now)
    return {
        "report": kept.figures,
        "as_of": shared.when(ctx)(kept.computed_at),
        "days": days,
        "periods": shared.PERIODS,
        "share": shared.share,
    }


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.coupons": "Coupons",
        "coupons.heading": "Campaign conversion",
        "coupons.explain": "Codes issued in the last {days} days, and how many of them were "
        "redeemed since.",
        "coupons.source": "Issued by",
        "coupons.issued": "Issued",
        "coupons.redeemed": "Redeemed",
        "coupons.rate": "Rate",
        "coupons.all": "All sources",
        "coupons.none": "No campaign is configured.",
        "shared.as_of": "Figures as of {at} (worked out again every few minutes)",
        "coupon_source.welcome": "welcome gift",
        "coupon_source.hook": "keyword hook",
        "coupon_source.winback": "win-back",
        "coupon_source.referral": "referral",
        "coupon_source.operator": "operator",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.coupons": "优惠券",
        "coupons.heading": "活动转化",
        "coupons.explain": "近 {days} 天发放的优惠券，以及其中已核销的数量。",
        "coupons.source": "发放来源",
        "coupons.issued": "发放",
        "coupons.redeemed": "核销",
        "coupons.rate": "核销率",
        "coupons.all": "全部来源",
        "coupons.none": "尚未配置优惠券活动。",
        "shared.as_of": "数据截至 {at}（每隔几分钟重新计算）",
        "coupon_source.welcome": "新人礼包",
        "coupon_source.hook": "关键词",
        "coupon_source.winback": "召回",
        "coupon_source.referral": "邀请",
        "coupon_source.operator": "运营发放",
    },
}

PAGE = Page(name="coupons", path="coupons", template="coupons.html.j2", view=view, strings=STRINGS)
