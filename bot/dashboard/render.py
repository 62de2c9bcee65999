"""The dashboard's HTML: Jinja2 with autoescape over ``bot/dashboard/templates``, and the
headers every answer carries (nothing from outside the bot's own server may load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.dashboard.format import change, number

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

#: only the bot's own server: scripts, styles, images, fonts, fetches; Telegram Web may frame it
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # the login link's token is in its path: never sent on as a referrer
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    env.filters["change"] = change
    return env


def html(body: str, status: int = 200, **headers: str) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(HEADERS)
    response.headers.update(headers)
    return response


def page_html(
    env: Environment, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    return html(env.get_template(template).render(**context), status)
