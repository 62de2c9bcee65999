"""Who is asking: the Mini App's init data (a header the page's script sends) or the session
cookie a one-time login link set; and whether that person is an operator right now.

The operator check is the team commands' own (:class:`handlers.filters.OperatorDirectory`), on
every request: someone removed from the team loses the dashboard at once, sessions included.
Every write carries the CSRF token of its credential (:meth:`Authenticator.csrf`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.dashboard.initdata import InitDataError, verify
from bot.db.repositories.dashboard import DashboardRepository
from bot.db.session import Database

log = logging.getLogger(__name__)

#: the header the page's script sends the init data in (``Authorization: tma <data>`` too)
INIT_DATA_HEADER = "X-Telegram-Init-Data"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "_csrf"
COOKIE = "sopbot_dashboard"
#: a browser session lasts this long (the operator check runs on every request all the same)
SESSION_VALID = timedelta(hours=12)


@dataclass(frozen=True)
class Operator:
    """The person a request is from, checked to be an operator."""

    user_id: int
    first_name: str
    username: str | None
    language_code: str | None
    #: what the CSRF token is made from: the init data's hash or the session token
    credential: str
    via: str  # "initdata" or "session"


#: ``(user_id) -> is an operator now``
OperatorCheck = Callable[[int], Awaitable[bool]]


class Authenticator:
    def __init__(self, bot_token: str, db: Database, is_operator: OperatorCheck) -> None:
        self._token = bot_token
        self._db = db
        self._is_operator = is_operator
        #: the CSRF tokens' key: derived from the bot token, the same in every process
        self._csrf_key = hmac.new(
            bot_token.encode(), b"sopbot dashboard csrf", hashlib.sha256
        ).digest()

    async def operator(self, request: web.Request, now: datetime) -> Operator | None:
        """The operator asking, or ``None`` (no credential, a bad one, or not an operator)."""
        raw = request.headers.get(INIT_DATA_HEADER)
        auth = request.headers.get("Authorization", "")
        if raw is None and auth.lower().startswith("tma "):
            raw = auth[4:].strip()
        if raw is not None:
            try:
                data = verify(raw, self._token, now)
            except InitDataError as error:
                log.info("dashboard: init data refused (%s) from %s", error, request.remote)
                return None
            user = data.user
            found = Operator(
                user.id, user.first_name, user.username, user.language_code, data.hash, "initdata"
            )
        else:
            cookie = request.cookies.get(COOKIE)
            if not cookie:
                return None
            async with self._db.sessions() as session:
                row = await DashboardRepository(session).session(cookie, now)
            if row is None:
                return None
            found = Operator(row.user_id, "", None, row.language_code, cookie, "session")
        if not await self._is_operator(found.user_id):
            log.info("dashboard: %d is not an operator (now)", found.user_id)
            return None
        return found

    def csrf(self, operator: Operator) -> str:
        return hmac.new(
            self._csrf_key, f"{operator.via}:{operator.credential}".encode(), hashlib.sha256
        ).hexdigest()

    def csrf_ok(self, operator: Operator, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(operator), str(given))

    async def login_valid(self, token: str, now: datetime) -> tuple[bool, str | None]:
        """Whether the link can still be used, and its operator's language."""
        async with self._db.sessions() as session:
            login = await DashboardRepository(session).login(token, now)
        return login is not None, login.language_code if login is not None else None

    async def use_login(self, token: str, now: datetime) -> str | None:
        """Spends the link and opens a session: its cookie value, or ``None`` when the link
        was used, expired, unknown, or its operator is no longer one."""
        async with self._db.transaction() as session:
            repo = DashboardRepository(session)
            login = await repo.use_login(token, now)
            if login is None:
                return None
            if not await self._is_operator(login.user_id):
                return None
            cookie = secrets.token_urlsafe(32)
            await repo.add_session(
                cookie, login.user_id, login.language_code, now, now + SESSION_VALID
            )
            await repo.prune(now)
        return cookie

    async def end_session(self, cookie: str) -> None:
        async with self._db.transaction() as session:
            await DashboardRepository(session).end_session(cookie)
