"""A member's privacy rights in private (``/privacy``, ``/mydata``, ``/forget``, ``/stop``, and
``/start`` taking them back into marketing DMs), the "Agree" and confirm buttons, and an
operator's ``/member ID forget``. Thin: aiogram objects → plain data → one privacy call."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message, Update

from bot.services import Services
from bot.services.dto import ChatKind, Origin
from bot.services.privacy.service import FORGET
from bot.services.privacy_gate import AGREE
from handlers.buttons import answer
from handlers.convert import origin, person
from handlers.filters import InTeamPlace, IsOperator

#: ``/member ID forget``
FORGET_ARGS = r"^\s*(\d{1,18})\s+forget\s*$"


def setup() -> Router:
    router = Router(name="privacy")
    private = F.chat.type == ChatType.PRIVATE
    router.message.filter(F.from_user, F.from_user.is_bot.is_(False))
    router.message.register(on_start, CommandStart(), private)
    router.message.register(show, Command("privacy"), private)
    router.message.register(mydata, Command("mydata"), private)
    router.message.register(forget, Command("forget"), private)
    router.message.register(stop, Command("stop"), private)
    router.message.register(
        member_forget,
        Command("member", magic=F.args.regexp(FORGET_ARGS)),
        InTeamPlace(),
        IsOperator(),
    )
    router.callback_query.register(agree, F.data.startswith(AGREE))
    router.callback_query.register(confirm_forget, F.data.regexp(rf"^{FORGET}[0-9a-f]{{16}}$"))
    return router


async def on_start(message: Message, services: Services, now: datetime) -> None:
    """Back into marketing DMs; then ``/start`` goes on to the welcome room."""
    assert message.from_user is not None
    await services.privacy.on_start(person(message.from_user), now)
    raise SkipHandler


async def show(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.privacy.show(person(message.from_user), origin(message, event_update), now)


async def mydata(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.privacy.export(person(message.from_user), origin(message, event_update), now)


async def forget(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.privacy.ask_forget(person(message.from_user), origin(message, event_update), now)


async def stop(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.privacy.stop(person(message.from_user), origin(message, event_update), now)


async def member_forget(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None and command.args is not None
    user_id = int(command.args.split()[0])
    await services.privacy.forget_by_operator(
        services.team, origin(message, event_update), person(message.from_user), user_id, now
    )


async def agree(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    label = await services.privacy.agree(query.data, query.from_user.id, now)
    return answer(query, services, label)


async def confirm_forget(
    query: CallbackQuery, services: Services, now: datetime, event_update: Update
) -> AnswerCallbackQuery:
    assert query.data is not None
    where = query.message.chat.id if query.message is not None else query.from_user.id
    label = await services.privacy.confirm_forget(
        query.data.removeprefix(FORGET),
        person(query.from_user),
        Origin(where, ChatKind.PRIVATE, None, event_update.update_id),
        now,
    )
    return answer(query, services, label, alert=True)
