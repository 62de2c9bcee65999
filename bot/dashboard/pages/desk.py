"""The desk and community order: the tickets not closed, overdue first (``/tickets``), and the
latest moderation actions with today's counts by kind and alerts by level (``/modlog``)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared


async def view(ctx: PageContext) -> dict[str, Any]:
    async with ctx.reading() as services:
        records = services.dashboard_reads.records
        tickets = await records.tickets(ctx.now)
        order = await records.moderation(ctx.now)
    return {"tickets": tickets, "order": order, "when": shared.when(ctx)}


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.desk": "Tickets & moderation",
        "desk.tickets": "Tickets not closed",
        "desk.summary": "{total} not closed, {overdue} overdue",
        "desk.member": "Member",
        "desk.status": "Status",
        "desk.opened": "Opened",
        "desk.waiting": "Waiting",
        "desk.minutes": "{n} min",
        "desk.claimed": "Claimed by",
        "desk.overdue": "overdue",
        "desk.no_tickets": "No ticket is waiting.",
        "desk.moderation": "Moderation",
        "desk.today": "Today",
        "desk.alerts": "Alerts today",
        "desk.action": "Action",
        "desk.rule": "Rule",
        "desk.by": "By",
        "desk.bot": "the bot",
        "desk.until": "Until",
        "desk.no_actions": "No moderation action yet.",
        "ticket.open": "open",
        "ticket.answered": "answered",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.desk": "工单与管理",
        "desk.tickets": "未关闭的工单",
        "desk.summary": "{total} 个未关闭，{overdue} 个已超时",
        "desk.member": "成员",
        "desk.status": "状态",
        "desk.opened": "创建时间",
        "desk.waiting": "等待",
        "desk.minutes": "{n} 分钟",
        "desk.claimed": "认领人",
        "desk.overdue": "已超时",
        "desk.no_tickets": "没有等待中的工单。",
        "desk.moderation": "群管理",
        "desk.today": "今日",
        "desk.alerts": "今日预警",
        "desk.action": "操作",
        "desk.rule": "规则",
        "desk.by": "执行人",
        "desk.bot": "机器人",
        "desk.until": "截止",
        "desk.no_actions": "暂无管理操作。",
        "ticket.open": "待回复",
        "ticket.answered": "已回复",
    },
}

PAGE = Page(name="desk", path="desk", template="desk.html.j2", view=view, strings=STRINGS)
