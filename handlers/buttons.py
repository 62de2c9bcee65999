"""Button presses no feature took (stale or forged) are answered, so the client stops spinning;
and how a press is answered (:func:`answer`). Asked last (``handlers.setup``)."""

from __future__ import annotations

from aiogram import Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.services import Services


def setup() -> Router:
    router = Router(name="buttons")
    router.callback_query.register(expired)
    return router


async def expired(query: CallbackQuery, services: Services) -> AnswerCallbackQuery:
    return answer(query, services, "button_expired")


def answer(
    query: CallbackQuery, services: Services, label: str, *, alert: bool = False
) -> AnswerCallbackQuery:
    locale = services.messenger.renderer.locale_for(query.from_user.language_code)
    # answerCallbackQuery sends no message and must come within seconds: not via the outbox;
    # made by the update's middleware once the press is committed (handlers.middlewares)
    return query.answer(services.messenger.label(label, locale, fallback="✓"), show_alert=alert)
