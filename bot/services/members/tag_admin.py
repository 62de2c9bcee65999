"""Operators tagging members by hand (``/tag``) and sizing segments (``/segment``).

Each answer is a template name and its context; the handler replies with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.tags import known_tags
from bot.db.models import Member
from bot.db.repositories import TagRepository
from bot.db.repositories.lifecycle import LifecycleRepository
from bot.ids import parse_user_id
from bot.services.members.segments import SegmentService, reachable

Answer = tuple[str, dict[str, Any]]


class TagAdminService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, segments: SegmentService
    ) -> None:
        self._config = config
        self._tags = TagRepository(session)
        self._stages = LifecycleRepository(session)
        self._segments = segments

    def known_tags(self) -> list[str]:
        return known_tags(self._config.tags, [h.tag for h in self._config.hooks if h.tag])

    async def tag(self, who: str, action: str, tag: str, operator_id: int, now: datetime) -> Answer:
        """``action`` (add/remove) ``tag`` on the member ``who`` (``@username`` or an id)."""
        member = await self._find(who)
        if member is None:
            return "tag_no_member", {"who": who}
        if tag not in self.known_tags():
            return "tag_unknown", {"tag": tag, "known": self.known_tags()}
        by = f"op:{operator_id}"
        changed = await (
            self._tags.add(member.user_id, tag, by, now)
            if action == "add"
            else self._tags.remove(member.user_id, tag, by, now)
        )
        return "tag_done", {"who": _shown(member), "tag": tag, "action": action, "changed": changed}

    async def segment(self, name: str | None, now: datetime) -> Answer:
        """One segment's size (and how many of them may be DMed), or every segment's."""
        if name is None:
            return "segment_list", {"segments": await self._segments.sizes(now)}
        if not self._segments.knows(name):
            return "segment_unknown", {"name": name, "known": self._segments.names()}
        size = await self._segments.count(name, now)
        dm = await self._stages.count(self._segments.user_ids(name, now).where(reachable()))
        return "segment_size", {"name": name, "size": size, "reachable": dm}

    async def _find(self, who: str) -> Member | None:
        if who.startswith("@"):
            return await self._stages.member_by_username(who[1:])
        user_id = parse_user_id(who)
        return None if user_id is None else await self._stages.member(user_id)


def _shown(member: Member) -> str:
    return f"@{member.username}" if member.username else f"{member.first_name} ({member.user_id})"
