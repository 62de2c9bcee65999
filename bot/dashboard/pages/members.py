"""Members: a search (the beginning of a name or @username, or an id) with filters by tag,
lifecycle stage, value tier and source (``MemberSearch``); each row opens the member card."""

from __future__ import annotations

from typing import Any

from bot.config.tags import LIFECYCLE_STAGES, TIERS
from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import shared
from bot.services.dashboard.members import COUNT_MOST, MemberFilter


def wanted(ctx: PageContext) -> MemberFilter:
    q = ctx.query
    return MemberFilter(
        query=q.get("q", ""),
        tag=q.get("tag", ""),
        stage=q.get("stage", ""),
        tier=q.get("tier", ""),
        source=q.get("source", ""),
    ).cleaned()


async def view(ctx: PageContext) -> dict[str, Any]:
    chosen = wanted(ctx)
    page = shared.number_arg(ctx, "page", 1)
    async with ctx.reading() as services:
        reads = services.dashboard_reads
        found = await reads.members.page(chosen, page)
        total = await reads.members.count(chosen)
        tags = services.tag_admin.known_tags()
    query = {"q": chosen.query, "tag": chosen.tag, "stage": chosen.stage}
    query |= {"tier": chosen.tier, "source": chosen.source}
    return {
        "found": found,
        "total": total,
        "shown_total": f"{COUNT_MOST}+" if total >= COUNT_MOST else str(total),
        "chosen": chosen,
        "query": {k: v for k, v in query.items() if v},
        "tags": [t for t in tags if not t.startswith("tier:")],
        "stages": LIFECYCLE_STAGES,
        "tiers": TIERS,
        "when": shared.when(ctx),
    }


STRINGS = {
    "en": {
        **shared.STRINGS["en"],
        "nav.members": "Members",
        "members.heading": "Members",
        "members.search": "Name, @username or id",
        "members.find": "Find",
        "members.any_tag": "Any tag",
        "members.any_stage": "Any stage",
        "members.any_tier": "Any tier",
        "members.source": "Source",
        "members.total": "{total} members match",
        "members.name": "Member",
        "members.stage": "Stage",
        "members.first_seen": "First seen",
        "members.last_seen": "Last spoke",
        "members.dm": "DM",
        "members.none": "No member matches.",
        "stage.active": "active",
        "stage.new": "new",
        "stage.silent": "silent",
        "stage.churned": "churned",
        "tier.high_value": "high value",
        "tier.potential": "potential",
        "tier.silent": "silent (90 days)",
    },
    "zh": {
        **shared.STRINGS["zh"],
        "nav.members": "成员",
        "members.heading": "成员",
        "members.search": "姓名、@用户名或 ID",
        "members.find": "查找",
        "members.any_tag": "全部标签",
        "members.any_stage": "全部阶段",
        "members.any_tier": "全部价值层级",
        "members.source": "来源",
        "members.total": "共 {total} 位成员符合",
        "members.name": "成员",
        "members.stage": "阶段",
        "members.first_seen": "首次出现",
        "members.last_seen": "最近发言",
        "members.dm": "可私信",
        "members.none": "没有符合条件的成员。",
        "stage.active": "活跃",
        "stage.new": "新成员",
        "stage.silent": "沉默",
        "stage.churned": "流失",
        "tier.high_value": "高价值",
        "tier.potential": "潜力",
        "tier.silent": "沉默（90 天）",
    },
}

PAGE = Page(name="members", path="members", template="members.html.j2", view=view, strings=STRINGS)
