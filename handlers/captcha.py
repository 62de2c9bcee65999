"""Join protection's buttons: a DM challenge's pictures (``cap:``) and a group challenge's
button (``capj:``). Only the member a challenge was made for counts; anyone else is told so."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.services import Services
from bot.services.moderation.captcha import JOIN_PREFIX, REQUEST_PREFIX
from handlers.buttons import answer


def setup() -> Router:
    router = Router(name="captcha")
    router.callback_query.register(request_pressed, F.data.startswith(REQUEST_PREFIX))
    router.callback_query.register(join_pressed, F.data.startswith(JOIN_PREFIX))
    return router


async def request_pressed(
    query: CallbackQuery, services: Services, now: datetime
) -> AnswerCallbackQuery:
    result = await services.captcha.press_request(query.data or "", query.from_user.id, now)
    return answer(query, services, result.label, alert=result.alert)


async def join_pressed(
    query: CallbackQuery, services: Services, now: datetime
) -> AnswerCallbackQuery:
    chat_id = query.message.chat.id if query.message is not None else 0
    result = await services.captcha.press_join(query.data or "", chat_id, query.from_user.id, now)
    return answer(query, services, result.label, alert=result.alert)
