"""The audit log: every team command and every dashboard write, newest first, a page at a
time (``RecordsQuery.audit``: ``/audit``'s entries)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared


async def view(ctx: PageContext) -> dict[str, Any]:
    page = shared.number_arg(ctx, "page", 1)
    async with ctx.reading() as services:
        found = await services.dashboard_reads.records.audit(page)
    return {"found": found, "when": shared.when(ctx)}


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.audit": "Audit log",
        "audit.heading": "Audit log",
        "audit.at": "When",
        "audit.who": "Who",
        "audit.where": "Where",
        "audit.command": "Command",
        "audit.result": "Result",
        "audit.none": "No entry yet.",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.audit": "审计日志",
        "audit.heading": "审计日志",
        "audit.at": "时间",
        "audit.who": "操作人",
        "audit.where": "位置",
        "audit.command": "命令",
        "audit.result": "结果",
        "audit.none": "暂无记录。",
    },
}

PAGE = Page(name="audit", path="audit", template="audit.html.j2", view=view, strings=STRINGS)
