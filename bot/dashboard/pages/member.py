"""The member card: who they are, stage, tags and tag history, coupons, orders and stints
(``MemberCards.card``); manual tags put on and taken off as ``/tag`` does it (audited)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dashboard.page import ActionResult, Page, PageContext
from bot.dashboard.pages import shared
from bot.ids import parse_user_id
from bot.services import Services


async def view(ctx: PageContext) -> dict[str, Any]:
    user_id = parse_user_id(ctx.query.get("id", ""))
    card = None
    if user_id is not None:
        async with ctx.reading() as services:
            card = await services.dashboard_reads.cards.card(user_id, ctx.now)
    return {"card": card, "asked": ctx.query.get("id", "")[:20], "when": shared.when(ctx)}


def _tag_action(action: str) -> Any:
    async def run(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
        user_id = parse_user_id(form.get("id", ""))
        tag = form.get("tag", "").strip()[:64]
        if user_id is None:
            return ActionResult(f"{action} ?", notice="member_tag_no_member", ok=False)
        edit = await services.dashboard_reads.cards.edit_tag(
            user_id, action, tag, ctx.operator.user_id, ctx.now
        )
        ok = edit.outcome == "tag_done"
        notice = f"member_{edit.outcome}" + ("" if not ok or edit.changed else "_unchanged")
        return ActionResult(f"{action} {user_id} {tag}", notice, ok, {"id": str(user_id)})

    return run


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.member": "Member",
        "member.missing": "No member with the id {id}.",
        "member.back": "Back to members",
        "member.id": "Id",
        "member.source": "Source",
        "member.first_seen": "First seen",
        "member.started": "Started the bot",
        "member.last_seen": "Last spoke",
        "member.stage": "Stage",
        "member.messages": "Messages (7 / 30 days)",
        "member.dm": "May be messaged",
        "member.erased": "Identity erased",
        "member.yes": "yes",
        "member.no": "no",
        "member.tags": "Tags",
        "member.no_tags": "No tags.",
        "member.add_tag": "Add tag",
        "member.remove_tag": "Remove {tag}",
        "member.history": "Tag history",
        "member.coupons": "Coupons",
        "member.orders": "Orders",
        "member.stints": "Memberships",
        "member.left": "left {at}",
        "member.in_group": "still in",
        "member_tag_done": "Tag changed.",
        "member_tag_done_unchanged": "Nothing to change: the tag was already so.",
        "member_tag_unknown": "Unknown tag: only the config's tags can be used.",
        "member_tag_no_member": "No such member.",
        "member_tag_usage": "Choose add or remove.",
        "coupon.open": "open",
        "coupon.redeemed": "redeemed",
        "coupon.expired": "expired",
        "coupon.void": "void",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.member": "成员",
        "member.missing": "没有 ID 为 {id} 的成员。",
        "member.back": "返回成员列表",
        "member.id": "ID",
        "member.source": "来源",
        "member.first_seen": "首次出现",
        "member.started": "启动机器人",
        "member.last_seen": "最近发言",
        "member.stage": "阶段",
        "member.messages": "消息（7 / 30 天）",
        "member.dm": "可私信",
        "member.erased": "身份已删除",
        "member.yes": "是",
        "member.no": "否",
        "member.tags": "标签",
        "member.no_tags": "暂无标签。",
        "member.add_tag": "添加标签",
        "member.remove_tag": "移除 {tag}",
        "member.history": "标签记录",
        "member.coupons": "优惠券",
        "member.orders": "订单",
        "member.stints": "入群记录",
        "member.left": "{at} 退出",
        "member.in_group": "仍在群内",
        "member_tag_done": "标签已更新。",
        "member_tag_done_unchanged": "无需更改：标签本已如此。",
        "member_tag_unknown": "未知标签：只能使用配置中的标签。",
        "member_tag_no_member": "没有这位成员。",
        "member_tag_usage": "请选择添加或移除。",
        "coupon.open": "可用",
        "coupon.redeemed": "已核销",
        "coupon.expired": "已过期",
        "coupon.void": "已作废",
    },
}

PAGE = Page(
    name="member",
    path="member",
    template="member.html.j2",
    view=view,
    actions={"tag_add": _tag_action("add"), "tag_remove": _tag_action("remove")},
    strings=STRINGS,
    nav=False,
)
