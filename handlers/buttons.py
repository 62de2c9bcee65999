"""Button presses: a seat for the evening Q&A; anything else (stale or forged) is answered, so
the client stops spinning."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.services import Services
from bot.services.sop.schedules import RSVP_PREFIX
from handlers.convert import person


def setup() -> Router:
    router = Router(name="buttons")
    router.callback_query.register(rsvp, F.data.regexp(rf"^{RSVP_PREFIX}\d{{1,18}}$"))
    router.callback_query.register(expired)
    return router


async def rsvp(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    answer = await services.sop_admin.rsvp(
        int(query.data.removeprefix(RSVP_PREFIX)), person(query.from_user), now
    )
    return _answer(query, services, answer, alert=answer == "rsvp_no_dm")


async def expired(query: CallbackQuery, services: Services) -> AnswerCallbackQuery:
    return _answer(query, services, "button_expired")


def _answer(
    query: CallbackQuery, services: Services, label: str, *, alert: bool = False
) -> AnswerCallbackQuery:
    locale = services.messenger.renderer.locale_for(query.from_user.language_code)
    # answerCallbackQuery sends no message and must come within seconds: not via the outbox;
    # made by the update's middleware once the press is committed (handlers.middlewares)
    return query.answer(services.messenger.label(label, locale, fallback="✓"), show_alert=alert)
