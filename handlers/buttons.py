"""Button presses no feature claimed (stale or forged): answered, so the client stops spinning."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.services import Services


def setup() -> Router:
    router = Router(name="buttons")
    router.callback_query.register(expired)
    return router


async def expired(query: CallbackQuery, services: Services) -> None:
    locale = services.messenger.renderer.locale_for(query.from_user.language_code)
    # answerCallbackQuery sends no message and must come within seconds: not via the outbox
    await query.answer(services.messenger.label("button_expired", locale, fallback="⌛"))
