"""The SOP calendar: the next 7 days of schedules with their content status (``CalendarQuery``);
pause and resume (``/sop pause|resume``) and a day's briefing items (``/brief add``), through
the same ``SopAdminService`` (audited)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from bot.dashboard.page import ActionResult, Page, PageContext
from bot.dashboard.pages import shared
from bot.services import Services
from bot.services.dashboard.calendar import DAYS
from bot.services.sop.content import MAX_ITEM


async def view(ctx: PageContext) -> dict[str, Any]:
    async with ctx.reading() as services:
        week = await services.dashboard_reads.calendar.week(ctx.now)
    return {"week": week, "hm": lambda at: at.strftime("%H:%M"), "most": MAX_ITEM}


async def _pause(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
    schedule = form.get("schedule", "")[:64]
    if not services.sop_admin.knows(schedule):
        return ActionResult(f"pause {schedule}", "calendar_unknown", ok=False)
    done = await services.sop_admin.pause(schedule, ctx.person(), ctx.now)
    return ActionResult(f"pause {schedule}", "calendar_paused" if done else "calendar_already")


async def _resume(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
    schedule = form.get("schedule", "")[:64]
    if not services.sop_admin.knows(schedule):
        return ActionResult(f"resume {schedule}", "calendar_unknown", ok=False)
    done = await services.sop_admin.resume(schedule, ctx.now)
    return ActionResult(f"resume {schedule}", "calendar_resumed" if done else "calendar_already")


def _day(text: str, ctx: PageContext) -> date | None:
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
    today = ctx.now.astimezone(ctx.config.tz).date()
    return day if today <= day < today + timedelta(days=DAYS) else None


async def _brief(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
    day = _day(form.get("day", ""), ctx)
    text = " ".join(form.get("text", "").split())
    if day is None or not text or len(text) > MAX_ITEM:
        return ActionResult("brief ?", "calendar_brief_usage", ok=False)
    await services.sop_admin.add_brief(day, text, ctx.person(), ctx.now)
    return ActionResult(f"brief {day.isoformat()}", "calendar_brief_added")


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.calendar": "Calendar",
        "calendar.heading": "SOP calendar: the next {days} days",
        "calendar.kind.message": "post",
        "calendar.kind.briefing": "briefing",
        "calendar.kind.qa": "Q&A",
        "calendar.items": "{n} items",
        "calendar.no_items": "no items yet",
        "calendar.topic": "topic: {topic}",
        "calendar.no_topic": "no topic (/qa topic)",
        "calendar.ready": "ready",
        "calendar.missing": "missing",
        "calendar.paused": "paused",
        "calendar.to": "by DM to {segment}",
        "calendar.pause": "Pause",
        "calendar.resume": "Resume",
        "calendar.add_item": "Add briefing item",
        "calendar.item_text": "Briefing item for {day}",
        "calendar.nothing": "Nothing scheduled.",
        "calendar.schedules": "Schedules",
        "calendar.disabled": "off in the config",
        "calendar_paused": "Paused.",
        "calendar_resumed": "Resumed: runs passed while paused are not sent.",
        "calendar_already": "Nothing to change: it was already so.",
        "calendar_unknown": "No such schedule.",
        "calendar_brief_added": "Briefing item added.",
        "calendar_brief_usage": "An item needs a day of the next 7 and a text (1000 "
        "characters at most).",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.calendar": "日程",
        "calendar.heading": "SOP 日程：未来 {days} 天",
        "calendar.kind.message": "推送",
        "calendar.kind.briefing": "早报",
        "calendar.kind.qa": "答疑",
        "calendar.items": "{n} 条内容",
        "calendar.no_items": "尚无内容",
        "calendar.topic": "主题：{topic}",
        "calendar.no_topic": "未设置主题（/qa topic）",
        "calendar.ready": "已就绪",
        "calendar.missing": "缺内容",
        "calendar.paused": "已暂停",
        "calendar.to": "私信发送给 {segment}",
        "calendar.pause": "暂停",
        "calendar.resume": "恢复",
        "calendar.add_item": "添加早报内容",
        "calendar.item_text": "{day} 的早报内容",
        "calendar.nothing": "没有安排。",
        "calendar.schedules": "全部日程",
        "calendar.disabled": "配置中已关闭",
        "calendar_paused": "已暂停。",
        "calendar_resumed": "已恢复：暂停期间错过的不会补发。",
        "calendar_already": "无需更改：本已如此。",
        "calendar_unknown": "没有这个日程。",
        "calendar_brief_added": "早报内容已添加。",
        "calendar_brief_usage": "请填写未来 7 天内的日期和内容（最多 1000 字）。",
    },
}

PAGE = Page(
    name="calendar",
    path="calendar",
    template="calendar.html.j2",
    view=view,
    actions={"pause": _pause, "resume": _resume, "brief": _brief},
    strings=STRINGS,
)
