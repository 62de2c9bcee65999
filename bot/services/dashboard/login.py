"""``/dashboard``: the operators' dashboard, opened from Telegram.

In private, an operator gets a ``web_app`` button on ``DASHBOARD_URL`` (the Mini App) and a
one-time login link for a desktop browser (valid 10 minutes, usable once; it sets the session
cookie). Telegram opens http Mini Apps only in its test environment: with a loopback http URL
(local development, tests) the login link is in the text rather than a URL button. In the
team chat the answer points to the private chat (a login link there would be anyone's);
elsewhere the team router answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.outbox import ChatKind
from bot.db.repositories.dashboard import LOGIN_VALID, DashboardRepository
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger
from bot.services.team import TeamService


class DashboardService:
    def __init__(self, session: AsyncSession, team: TeamService, messenger: Messenger) -> None:
        self._logins = DashboardRepository(session)
        self._team = team
        self._messenger = messenger

    async def answer(self, origin: Origin, person: Person, url: str | None, now: datetime) -> None:
        """``url``: DASHBOARD_URL when the dashboard is served (both variables set)."""
        if url is None:
            await self._team.reply(origin, person, "dashboard_off", {}, now)
            return
        if origin.chat_kind is not ChatKind.PRIVATE:
            await self._team.reply(origin, person, "dashboard_private", {}, now)
            return
        token = await self._logins.new_login(person.id, person.language_code, now)
        login_url = f"{url}login/{token}"
        https = url.startswith("https://")
        locale = self._messenger.renderer.locale_for(person.language_code)
        rows: list[list[dict[str, Any]]] = [
            [
                {
                    "text": self._label("dashboard_open_button", locale, "Open"),
                    "web_app": {"url": url},
                }
            ]
        ]
        if https:  # a loopback http link is no URL button Telegram takes: in the text then
            rows.append(
                [
                    {
                        "text": self._label("dashboard_login_button", locale, "Desktop"),
                        "url": login_url,
                    }
                ]
            )
        markup = {"inline_keyboard": rows}
        context: dict[str, object] = {
            "login_url": None if https else login_url,
            "minutes": int(LOGIN_VALID.total_seconds() // 60),
        }
        await self._team.reply(origin, person, "dashboard", context, now, reply_markup=markup)

    def _label(self, template: str, locale: str, fallback: str) -> str:
        return self._messenger.label(template, locale, fallback=fallback)
