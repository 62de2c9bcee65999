"""The bot's command menus (``setMyCommands``, one per scope): the members' commands in every
private chat, in each language there are templates for (``menu_member``); the team's commands
in the team chat (``menu_team``, ``place`` *team*) and in the private chat of each operator the
bot may write to (``place`` *private*, in the operator's language). Published by the desk's
``menus`` loop (``bot/services/desk/jobs.py``), which sends only what changed."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import AuditEntry, Member, TagEvent
from bot.db.repositories import TagRepository
from bot.errors import TemplateRenderError
from bot.rendering import Renderer
from bot.services.members.community import TEAM_TAG

log = logging.getLogger(__name__)

#: one command a line: ``/name — what it does`` (a hyphen or a dash between)
_LINE = re.compile(r"^/?([a-z0-9_]{1,32})\s+[—–-]+\s+(.{1,256})$")
#: what Telegram takes as a menu's ``language_code`` (ISO 639-1)
_LANGUAGE = re.compile(r"[a-z]{2}")

#: audit results of a team command an operator gave (not ``refused`` nor ``ignored``)
OPERATOR_RESULTS = ("ok", "usage", "elsewhere", "error")

#: ``(command, description)`` pairs, in menu order
Menu = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MenuScope:
    """Where a menu applies: ``all_private_chats``, or ``chat`` (the team chat, or an
    operator's private chat); ``language_code`` empty for everyone else."""

    kind: str
    chat_id: int | None = None
    language_code: str = ""


def parse_menu(text: str) -> Menu:
    """A rendered menu template's commands; lines that are no ``/command — description`` are
    skipped."""
    found = []
    for line in html.unescape(text).splitlines():
        match = _LINE.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2).strip()))
    return tuple(found[:100])


class DeskMenus:
    def __init__(self, session: AsyncSession, config: CommunityConfig, renderer: Renderer) -> None:
        self._session = session
        self._config = config
        self._renderer = renderer

    async def wanted(self) -> dict[MenuScope, Menu]:
        """Every menu the bot should have now (an empty menu is left out)."""
        menus: dict[MenuScope, Menu] = {}
        languages = sorted(code for code in self._renderer.locales if _LANGUAGE.fullmatch(code))
        default = self._config.default_locale
        member = {"invite": self._config.referral is not None}
        self._put(menus, MenuScope("all_private_chats"), "menu_member", default, member)
        for code in languages:
            self._put(
                menus, MenuScope("all_private_chats", None, code), "menu_member", code, member
            )
        team_chat = self._config.team.chat
        if team_chat is not None:
            team = {"place": "team"}
            self._put(menus, MenuScope("chat", team_chat), "menu_team", default, team)
            for code in languages:
                self._put(menus, MenuScope("chat", team_chat, code), "menu_team", code, team)
        for operator in await self._operators():
            self._put(
                menus,
                MenuScope("chat", operator.user_id),
                "menu_team",
                self._renderer.locale_for(operator.language_code),
                {"place": "private"},
            )
        return menus

    async def former_operators(self, now_operators: Collection[int]) -> list[int]:
        """People who may hold the team's menu from an earlier run (a process stopped before
        it could take it back) and are no operators now: anyone who ever had the ``team`` tag
        or used a team command as an operator (the audit log), whom the bot may write to."""
        ever = union(
            select(TagEvent.user_id).where(TagEvent.tag == TEAM_TAG),
            select(AuditEntry.user_id).where(AuditEntry.result.in_(OPERATOR_RESULTS)),
        ).subquery()
        result = await self._session.execute(
            select(Member.user_id)
            .where(
                Member.user_id.in_(select(ever.c.user_id)),
                Member.dm_allowed.is_(True),
                Member.unreachable_at.is_(None),
            )
            .order_by(Member.user_id)
        )
        current = set(now_operators)
        return [uid for uid in result.scalars() if uid not in current]

    async def _operators(self) -> list[Member]:
        """``team.operators`` and the people seen in the team chat (the ``team`` tag), whom
        the bot may write to in private (a chat Telegram knows)."""
        ids = set(self._config.team.operators)
        if self._config.team.chat is not None:
            ids.update(await TagRepository(self._session).members_with(TEAM_TAG))
        if not ids:
            return []
        result = await self._session.execute(
            select(Member)
            .where(
                Member.user_id.in_(sorted(ids)),
                Member.dm_allowed.is_(True),
                Member.unreachable_at.is_(None),
            )
            .order_by(Member.user_id)
        )
        return list(result.scalars().all())

    def _put(
        self,
        menus: dict[MenuScope, Menu],
        scope: MenuScope,
        template: str,
        locale: str,
        context: dict[str, Any],
    ) -> None:
        try:
            menu = parse_menu(self._renderer.render(template, locale, context))
        except TemplateRenderError as error:
            log.error("menu template %s (%s) failed: %s", template, locale, error.reason)
            return
        if menu:
            menus[scope] = menu
