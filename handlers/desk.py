"""The member service desk: a member's private messages (conversations), operators' replies in
the team chat (answers), the desk's team commands and buttons, members' ``/help`` and
``/mycoupons``. Thin: aiogram objects → plain data → one service call."""

from __future__ import annotations

import re
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message, Update

from bot.config import CommunityConfig
from bot.services import Services
from bot.services.desk import MemberMessage, TeamMessage
from bot.services.desk.dto import MEDIA_KINDS
from bot.services.desk.views import CLAIM, HUMAN, RATE
from handlers.convert import origin, person
from handlers.filters import InCommunity, InTeamPlace, IsOperator, OperatorDirectory, TeamChat

#: the desk's team commands (refused to anyone else by handlers/team.py)
DESK_COMMANDS = ("answer", "close", "tickets")


def _not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def setup() -> Router:
    router = Router(name="desk")
    router.message.filter(F.from_user, F.from_user.is_bot.is_(False))
    router.message.register(member_help, Command("help"), F.chat.type == "private", ~IsOperator())
    # a member's own codes: by DM only (in a community, a DM or a pointer to the private chat)
    router.message.register(my_coupons, Command("mycoupons"), F.chat.type == "private")
    router.message.register(my_coupons, Command("mycoupons"), InCommunity())
    router.message.register(answer, Command("answer"), TeamChat(), IsOperator())
    router.message.register(close, Command("close"), TeamChat(), IsOperator())
    router.message.register(tickets, Command("tickets"), IsOperator(), InTeamPlace())
    router.message.register(
        team_reply,
        TeamChat(),
        F.func(_not_command),
        F.func(lambda m: m.reply_to_message is not None or bool(m.is_topic_message)),
    )
    router.message.register(
        member_message,
        F.chat.type == "private",
        F.func(_not_command),
        F.content_type.in_(MEDIA_KINDS),
    )
    router.callback_query.register(claim, F.data.regexp(rf"^{CLAIM}\d{{1,18}}$"), IsOperator())
    router.callback_query.register(not_team, F.data.regexp(rf"^{CLAIM}\d{{1,18}}$"))
    router.callback_query.register(human, F.data.regexp(rf"^{HUMAN}\d{{1,18}}$"))
    router.callback_query.register(rate, F.data.regexp(rf"^{RATE}\d{{1,18}}:[1-5]$"))
    return router


async def member_message(
    message: Message,
    services: Services,
    config: CommunityConfig,
    operators: OperatorDirectory,
    now: datetime,
) -> None:
    assert message.from_user is not None
    if operators.is_known_operator(config, message.from_user.id):
        return  # the team's own private messages (broadcast sources…) are no conversation
    await services.desk.on_message(
        MemberMessage(
            person=person(message.from_user),
            message_id=message.message_id,
            kind=str(message.content_type),
            text=message.text or message.caption or "",
            sent_at=message.date,
        ),
        now,
    )


def _team_message(message: Message, bot: Bot, update: Update) -> TeamMessage:
    assert message.from_user is not None
    reply = message.reply_to_message
    from_bot = reply is not None and reply.from_user is not None and reply.from_user.id == bot.id
    written = (message.text or message.caption or "").lstrip()
    hint = re.match(r"#(\d{1,18})\b\s*", written)
    return TeamMessage(
        chat_id=message.chat.id,
        message_id=message.message_id,
        person=person(message.from_user),
        reply_to_bot_message=reply.message_id if reply is not None and from_bot else None,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        is_note=written.startswith("!"),
        update_id=update.update_id,
        hint=int(hint.group(1)) if hint else None,
        rest=written[hint.end() :] if hint else written,
        is_text=message.text is not None,
    )


async def team_reply(
    message: Message,
    services: Services,
    config: CommunityConfig,
    operators: OperatorDirectory,
    bot: Bot,
    now: datetime,
    event_update: Update,
) -> None:
    """A reply (or a topic message) in the team chat: the member's answer when it is one.
    Whoever speaks in the team chat is on the team, as handlers/team.py records."""
    assert message.from_user is not None and config.team.chat is not None
    operators.remember(config.team.chat, message.from_user.id)
    await services.community.record_teammate(person(message.from_user), True, now)
    await services.desk_team.on_message(_team_message(message, bot, event_update), now)


async def answer(
    message: Message,
    command: CommandObject,
    services: Services,
    bot: Bot,
    now: datetime,
    event_update: Update,
) -> None:
    key = (command.args or "").strip() or None
    await services.desk_team.answer(
        origin(message, event_update), _team_message(message, bot, event_update), key, now
    )


async def close(
    message: Message, services: Services, bot: Bot, now: datetime, event_update: Update
) -> None:
    await services.desk_team.close(
        origin(message, event_update), _team_message(message, bot, event_update), now
    )


async def tickets(
    message: Message, services: Services, now: datetime, event_update: Update
) -> None:
    assert message.from_user is not None
    await services.desk_team.tickets(origin(message, event_update), person(message.from_user), now)


async def member_help(
    message: Message, services: Services, now: datetime, event_update: Update
) -> None:
    assert message.from_user is not None
    await services.desk.help(origin(message, event_update), person(message.from_user), now)


async def my_coupons(
    message: Message, services: Services, now: datetime, event_update: Update
) -> None:
    assert message.from_user is not None
    await services.member_coupons.answer(
        origin(message, event_update), person(message.from_user), now
    )


async def claim(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    label = await services.desk_team.claim(
        int(query.data.removeprefix(CLAIM)), person(query.from_user), now
    )
    return _answer(query, services, label)


async def not_team(query: CallbackQuery, services: Services) -> AnswerCallbackQuery:
    return _answer(query, services, "desk_team_only", alert=True)


async def human(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    label = await services.desk.talk_to_person(
        int(query.data.removeprefix(HUMAN)), query.from_user.id, now
    )
    return _answer(query, services, label)


async def rate(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    ticket, stars = query.data.removeprefix(RATE).split(":")
    label = await services.desk.rate(int(ticket), query.from_user.id, int(stars), now)
    return _answer(query, services, label)


def _answer(
    query: CallbackQuery, services: Services, label: str, *, alert: bool = False
) -> AnswerCallbackQuery:
    locale = services.messenger.renderer.locale_for(query.from_user.language_code)
    return query.answer(services.messenger.label(label, locale, fallback="✓"), show_alert=alert)
