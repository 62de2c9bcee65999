"""``/dashboard`` (operators, in private; in the team chat it points to the private chat):
the Mini App button and a one-time login link. Non-operators never reach it (the team
router refuses them, see handlers.team)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InKnownChat, InTeamPlace, IsOperator


def setup() -> Router:
    router = Router(name="dashboard")
    router.message.filter(F.from_user, InKnownChat())
    router.message.register(dashboard, Command("dashboard"), IsOperator(), InTeamPlace())
    return router


async def dashboard(
    message: Message,
    services: Services,
    now: datetime,
    event_update: Update,
    dashboard_url: str | None = None,
) -> None:
    assert message.from_user is not None
    await services.dashboard.answer(
        origin(message, event_update), person(message.from_user), dashboard_url, now
    )
