"""Broadcasts: the history, newest first, with each one's progress as its card in the chat
shows it (state, percent, ETA while sending); one broadcast with its A/B variants' results
(``BroadcastsQuery``)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared


async def view(ctx: PageContext) -> dict[str, Any]:
    page = shared.number_arg(ctx, "page", 1)
    chosen = shared.number_arg(ctx, "id", 0, most=2**62)
    async with ctx.reading() as services:
        reads = services.dashboard_reads.broadcasts
        found = await reads.page(ctx.now, page)
        one = await reads.one(chosen, ctx.now) if chosen else None
    return {"found": found, "one": one, "when": shared.when(ctx), "share": shared.share}


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.broadcasts": "Broadcasts",
        "broadcasts.heading": "Broadcasts",
        "broadcasts.segment": "Segment",
        "broadcasts.state": "State",
        "broadcasts.started": "Started",
        "broadcasts.audience": "Audience",
        "broadcasts.sent": "Delivered",
        "broadcasts.blocked": "Blocked",
        "broadcasts.failed": "Failed",
        "broadcasts.pending": "Pending",
        "broadcasts.progress": "Progress",
        "broadcasts.eta": "about {eta} left",
        "broadcasts.ab": "A/B",
        "broadcasts.ad": "ad",
        "broadcasts.variants": "A/B results",
        "broadcasts.variant": "Variant",
        "broadcasts.recipients": "Recipients",
        "broadcasts.replied": "Replied",
        "broadcasts.redeemed": "Redeemed",
        "broadcasts.details": "Details",
        "broadcasts.missing": "No such broadcast.",
        "broadcasts.none": "No broadcast yet.",
        "bstate.draft": "draft",
        "bstate.sending": "sending",
        "bstate.cancelling": "cancelling",
        "bstate.done": "done",
        "bstate.cancelled": "cancelled",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.broadcasts": "群发",
        "broadcasts.heading": "群发记录",
        "broadcasts.segment": "人群",
        "broadcasts.state": "状态",
        "broadcasts.started": "开始时间",
        "broadcasts.audience": "目标人数",
        "broadcasts.sent": "送达",
        "broadcasts.blocked": "被屏蔽",
        "broadcasts.failed": "失败",
        "broadcasts.pending": "待发送",
        "broadcasts.progress": "进度",
        "broadcasts.eta": "预计还需 {eta}",
        "broadcasts.ab": "A/B",
        "broadcasts.ad": "广告",
        "broadcasts.variants": "A/B 结果",
        "broadcasts.variant": "版本",
        "broadcasts.recipients": "接收人数",
        "broadcasts.replied": "回复",
        "broadcasts.redeemed": "核销",
        "broadcasts.details": "详情",
        "broadcasts.missing": "没有这条群发。",
        "broadcasts.none": "还没有群发。",
        "bstate.draft": "草稿",
        "bstate.sending": "发送中",
        "bstate.cancelling": "取消中",
        "bstate.done": "已完成",
        "bstate.cancelled": "已取消",
    },
}

PAGE = Page(
    name="broadcasts",
    path="broadcasts",
    template="broadcasts.html.j2",
    view=view,
    strings=STRINGS,
)
