"""Operators and coupons: ``/redeem CODE``, ``/coupon give @user|ID CAMPAIGN``,
``/coupon stats [CAMPAIGN]``.

Non-operators never reach these (the team router refuses them, see handlers.team)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bot.services import Services
from handlers.convert import origin, person
from handlers.filters import InTeamPlace, IsOperator

REDEEM_USAGE = "/redeem CODE"
COUPON_USAGE = "/coupon give @user|ID CAMPAIGN · /coupon stats [CAMPAIGN]"


def setup() -> Router:
    router = Router(name="coupons")
    router.message.filter(F.from_user, F.text.startswith("/"), InTeamPlace(), IsOperator())
    router.message.register(redeem, Command("redeem"))
    router.message.register(coupon, Command("coupon"))
    return router


async def redeem(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    code = (command.args or "").strip()
    if not code or len(code) > 64:
        await services.team.answer_usage(where, who, REDEEM_USAGE, now)
        return
    answer = await services.coupon_admin.redeem(code, now)
    await services.team.reply(where, who, answer.template, answer.context, now)


async def coupon(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split()
    if len(words) == 3 and words[0] == "give":
        answer = await services.coupon_admin.give(words[1], words[2], now)
    elif 1 <= len(words) <= 2 and words[0] == "stats":
        answer = await services.coupon_admin.stats(words[1] if len(words) == 2 else None)
    else:
        await services.team.answer_usage(where, who, COUPON_USAGE, now)
        return
    await services.team.reply(where, who, answer.template, answer.context, now)
