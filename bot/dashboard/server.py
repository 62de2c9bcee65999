"""The operators' dashboard server (aiohttp), part of ``sopbot run`` when ``DASHBOARD_URL``
and ``DASHBOARD_LISTEN`` are set; served under DASHBOARD_URL's path.

Every page answers a browser without credentials with its frame and no figures (the page's
script then sends the Mini App's init data, ``X-Telegram-Init-Data``, and shows what comes
back); a bad credential is 403 with no figures; a write without its CSRF token is 403.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiogram import Bot
from aiohttp import web
from jinja2 import Environment

from bot.config import CommunityConfig, Settings
from bot.config.urls import is_loopback_host
from bot.dashboard.actions import run_action
from bot.dashboard.auth import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    INIT_DATA_HEADER,
    SESSION_VALID,
    Authenticator,
)
from bot.dashboard.i18n import Translator, locale_for
from bot.dashboard.page import Page, PageContext
from bot.dashboard.pages import PAGES
from bot.dashboard.render import HEADERS, STATIC, environment, html, page_html
from bot.runtime import Runtime

log = logging.getLogger(__name__)

#: an action's form is small (a tag, a briefing item)
MAX_BODY = 64 * 1024
PARTIAL_HEADER = "X-Dashboard-Partial"


class Operators(Protocol):
    """The team commands' operator directory (``handlers.filters.OperatorDirectory``)."""

    async def is_operator(
        self, bot: Bot, config: CommunityConfig, user_id: int, sent_in: int | None
    ) -> bool: ...


class DashboardServer:
    def __init__(
        self,
        url: str,
        listen: str,
        runtime: Runtime,
        auth: Authenticator,
        pages: Sequence[Page],
        *,
        secure_cookie: bool = True,
    ) -> None:
        self.public_url = url
        self._listen = listen
        self._runtime = runtime
        self.auth = auth
        self._pages = list(pages)
        self._prefix = urlsplit(url).path or "/"
        self._secure = secure_cookie
        self._env: Environment = environment()
        self._translator = Translator(page.strings for page in self._pages)
        #: ``http://host:port`` once listening (the port is chosen by the OS for ``:0``)
        self.url: str | None = None
        self.ready = asyncio.Event()

    @classmethod
    def from_settings(
        cls, settings: Settings, runtime: Runtime, bot: Bot, operators: Operators
    ) -> DashboardServer | None:
        """The server, when DASHBOARD_URL and DASHBOARD_LISTEN are both set. Who is an
        operator is asked of the team commands' own directory, on every request."""
        if not settings.dashboard_on or settings.bot_token is None:
            return None
        assert settings.dashboard_url is not None and settings.dashboard_listen is not None

        async def is_operator(user_id: int) -> bool:
            return await operators.is_operator(bot, runtime.config.current, user_id, None)

        auth = Authenticator(settings.bot_token.get_secret_value(), runtime.db, is_operator)
        parts = urlsplit(settings.dashboard_url)
        return cls(
            settings.dashboard_url,
            settings.dashboard_listen,
            runtime,
            auth,
            PAGES,
            # a Secure cookie is never sent over http: plain http only on a loopback host
            secure_cookie=not (parts.scheme == "http" and is_loopback_host(parts.hostname)),
        )

    # -- wiring -------------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        p = self._prefix
        for page in self._pages:
            app.router.add_get(p + page.path, self._get(page))
            for name in page.actions:
                path = f"{p}{page.path}/{name}" if page.path else f"{p}{name}"
                app.router.add_post(path, self._post(page, name))
            if page.api is not None:
                app.router.add_get(f"{p}api/{page.name}", self._api(page))
        app.router.add_get(p + "login/{token}", self.login_form)
        app.router.add_post(p + "login/{token}", self.login)
        app.router.add_post(p + "logout", self.logout)
        app.router.add_static(p + "static/", STATIC, append_version=False)
        return app

    async def serve(self, stop: asyncio.Event) -> None:
        """Listens until ``stop`` is set."""
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        host, _, port = self._listen.rpartition(":")
        try:
            await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
            bound = runner.addresses[0] if runner.addresses else (host, int(port))
            self.url = f"http://{bound[0]}:{bound[1]}"
            self.ready.set()
            log.info("dashboard listening on %s (public URL %s)", self.url, self.public_url)
            await stop.wait()
        finally:
            await runner.cleanup()

    # -- pages ----------------------------------------------------------------------------------

    def _base(self, request: web.Request, locale: str, **extra: Any) -> dict[str, Any]:
        nav = [(page.name, self._prefix + page.path) for page in self._pages if page.nav]
        return {
            "t": lambda key, **values: self._translator.text(locale, key, **values),
            "locale": locale,
            "prefix": self._prefix,
            "static": self._prefix + "static/",
            "nav": nav,
            "current": request.path,
            "partial": request.headers.get(PARTIAL_HEADER) == "1",
            "operator": None,
            "csrf": "",
            "signed_in": False,
            "denied": False,
            **extra,
        }

    def _default_locale(self) -> str:
        return self._runtime.config.current.default_locale

    def _denied(self, request: web.Request, locale: str | None = None) -> web.Response:
        loc = locale or locale_for(None, self._default_locale())
        return page_html(self._env, "denied.html.j2", self._base(request, loc, denied=True), 403)

    def _context(self, request: web.Request, operator: Any) -> PageContext:
        now = self._runtime.clock.now()
        return PageContext(
            request=request,
            operator=operator,
            locale=locale_for(operator.language_code, self._default_locale()),
            now=now,
            runtime=self._runtime,
            csrf=self.auth.csrf(operator),
            translator=self._translator,
            prefix=self._prefix,
        )

    def _get(self, page: Page) -> Any:
        async def handler(request: web.Request) -> web.Response:
            now = self._runtime.clock.now()
            operator = await self.auth.operator(request, now)
            if operator is None:
                if _has_credential(request):
                    return self._denied(request)
                loc = locale_for(None, self._default_locale())
                return page_html(self._env, "shell.html.j2", self._base(request, loc))
            ctx = self._context(request, operator)
            data = await page.view(ctx)
            base = self._base(request, ctx.locale, operator=operator, csrf=ctx.csrf, signed_in=True)
            notice = request.query.get("notice")
            known = notice is not None and notice in self._translator.keys(ctx.locale)
            base["notice"] = ctx.t(notice) if notice and known else None
            return page_html(self._env, page.template, {**base, **data, "ctx": ctx})

        return handler

    def _api(self, page: Page) -> Any:
        assert page.api is not None
        api = page.api

        async def handler(request: web.Request) -> web.Response:
            operator = await self.auth.operator(request, self._runtime.clock.now())
            if operator is None:
                return web.json_response({"error": "forbidden"}, status=403, headers=HEADERS)
            data = await api(self._context(request, operator))
            return web.json_response(data, headers=HEADERS, dumps=_dumps)

        return handler

    def _post(self, page: Page, name: str) -> Any:
        action = page.actions[name]

        async def handler(request: web.Request) -> web.StreamResponse:
            now = self._runtime.clock.now()
            operator = await self.auth.operator(request, now)
            if operator is None:
                return self._denied(request)
            form: Mapping[str, str] = {
                k: v for k, v in (await request.post()).items() if isinstance(v, str)
            }
            ctx = self._context(request, operator)
            given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
            if not self.auth.csrf_ok(operator, given):
                log.info("dashboard: %s/%s without its CSRF token", page.name, name)
                return html(ctx.t("csrf"), 403)
            result = await run_action(ctx, page.name, name, action, form)
            if result is None:
                return html(ctx.t("failed"), 500)
            target = ctx.url(page.path, **{**result.query, "notice": result.notice})
            raise web.HTTPSeeOther(target)

        return handler

    # -- login links ----------------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.Response:
        """A button that spends the link (a GET changes nothing: link previews and scanners
        that open URLs must not use it up)."""
        now = self._runtime.clock.now()
        valid, language = await self.auth.login_valid(request.match_info["token"], now)
        loc = locale_for(language, self._default_locale())
        context = self._base(request, loc, used=not valid)
        return page_html(self._env, "login.html.j2", context, 200 if valid else 403)

    async def login(self, request: web.Request) -> web.StreamResponse:
        cookie = await self.auth.use_login(request.match_info["token"], self._runtime.clock.now())
        if cookie is None:
            loc = locale_for(None, self._default_locale())
            return page_html(self._env, "login.html.j2", self._base(request, loc, used=True), 403)
        response = web.HTTPSeeOther(self._prefix)
        response.set_cookie(
            COOKIE,
            cookie,
            path=self._prefix,
            max_age=int(SESSION_VALID.total_seconds()),
            httponly=True,
            secure=self._secure,
            samesite="Strict",
        )
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        operator = await self.auth.operator(request, self._runtime.clock.now())
        if operator is None:
            return self._denied(request)
        form = await request.post()
        given = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
        if not self.auth.csrf_ok(operator, given):
            return html("CSRF", 403)
        cookie = request.cookies.get(COOKIE)
        if cookie:
            await self.auth.end_session(cookie)
        response = web.HTTPSeeOther(self._prefix)
        response.del_cookie(COOKIE, path=self._prefix)
        raise response


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _has_credential(request: web.Request) -> bool:
    return (
        INIT_DATA_HEADER in request.headers
        or request.headers.get("Authorization", "").lower().startswith("tma ")
        or bool(request.cookies.get(COOKIE))
    )
