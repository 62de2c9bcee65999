"""What a dashboard page is (docs: /work/notes/dashboard-api.md and docs/development.md).

A page is a :class:`Page` in ``bot/dashboard/pages/<name>.py``, listed in
``bot/dashboard/pages/__init__.py``. Its ``view`` reads (through the same services the chat
commands use, ``ctx.transaction()``) and returns its template's context; each of its
``actions`` is a write, served as ``POST <page>/<action>``, run in one transaction with its
audit entry, only with the CSRF token.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.config import CommunityConfig
from bot.dashboard.auth import Operator
from bot.dashboard.i18n import Translator
from bot.runtime import Runtime, services_for
from bot.services import Services
from bot.services.dto import ChatKind, Origin, Person


@dataclass
class PageContext:
    """One request's view of the dashboard: who, in which language, at what time."""

    request: web.Request
    operator: Operator
    locale: str
    now: datetime
    runtime: Runtime
    csrf: str
    translator: Translator
    #: the path every page's URL starts with (DASHBOARD_URL's path, e.g. ``/``)
    prefix: str

    @property
    def config(self) -> CommunityConfig:
        return self.runtime.config.current

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query

    def t(self, key: str, **values: Any) -> str:
        """The string ``key`` in the operator's language (``{name}`` placeholders filled)."""
        return self.translator.text(self.locale, key, **values)

    def url(self, path: str = "", **query: Any) -> str:
        """A dashboard URL: ``ctx.url("members", q="olga")`` → ``/members?q=olga``."""
        shown = {k: v for k, v in query.items() if v is not None and v != ""}
        return self.prefix + path.lstrip("/") + (f"?{urlencode(shown)}" if shown else "")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Services]:
        """The chat commands' services in one transaction (committed when the block ends)."""
        async with self.runtime.db.transaction() as session:
            yield services_for(self.runtime, session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Services]:
        """The services over a session that only reads: on SQLite it takes no write lock, so
        a page being worked out does not hold up the bot's updates. Writing through it is a
        mistake (it is rolled back)."""
        async with self.runtime.db.sessions() as session:
            try:
                yield services_for(self.runtime, session)
            finally:
                await session.rollback()

    def person(self) -> Person:
        op = self.operator
        return Person(op.user_id, op.first_name or str(op.user_id), op.username, op.language_code)

    def origin(self) -> Origin:
        """Where a dashboard write is said to come from in the audit log: the operator's
        private chat, under an update id of its own (negative: no Telegram update has it)."""
        return Origin(self.operator.user_id, ChatKind.PRIVATE, None, -secrets.randbits(62) - 1)


@dataclass(frozen=True)
class ActionResult:
    """What a write did: ``audit`` goes into the audit log's arguments (``tag add 42 vip``);
    ``notice`` is a string key shown on the page afterwards; ``ok`` False is audited as
    ``usage`` (the operator's input was refused, ``notice`` says why); ``query`` stays in the
    page's URL afterwards."""

    audit: str
    notice: str | None = None
    ok: bool = True
    #: kept in the page's URL the answer goes back to (``{"id": "42"}``: the same member)
    query: Mapping[str, str] = field(default_factory=dict)


View = Callable[[PageContext], Awaitable[dict[str, Any]]]
Action = Callable[[PageContext, Services, Mapping[str, str]], Awaitable[ActionResult]]


@dataclass(frozen=True)
class Page:
    #: the page's name: its nav entry's string is ``nav.<name>``, its audit entries
    #: ``dashboard`` with ``<name>.<action> …``
    name: str
    #: under the prefix: ``""`` for the overview, ``"members"``…
    path: str
    #: in ``bot/dashboard/templates/``; it extends ``base.html.j2``
    template: str
    view: View
    actions: Mapping[str, Action] = field(default_factory=dict)
    #: the page's own strings: ``{"en": {...}, "zh": {...}}`` (same keys in both)
    strings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: listed in the navigation
    nav: bool = True
    #: ``GET api/<name>``: the page's figures as JSON (same auth), when given
    api: View | None = None
