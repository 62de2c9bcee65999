"""Team commands: ``/kpi``, ``/help``; the refusal for every team command asked by someone
else, and the pointer for operators asking in a community."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ChatMemberUpdated, Message, Update

from bot.config import CommunityConfig
from bot.services import Services
from bot.services.moderation import MODERATION_COMMANDS
from handlers.convert import origin, person
from handlers.filters import InKnownChat, InTeamPlace, IsOperator, OperatorDirectory, TeamChat

#: commands only operators may use (everyone else gets the refusal)
TEAM_COMMANDS: tuple[str, ...] = ("kpi", "sop", "brief", "qa", "broadcast")
TEAM_COMMANDS += ("tag", "segment")
TEAM_COMMANDS += ("redeem", "coupon")
TEAM_COMMANDS += ("audit", "member", "export")
TEAM_COMMANDS += MODERATION_COMMANDS


def setup() -> Router:
    router = Router(name="team")
    router.message.filter(F.from_user, InKnownChat())
    router.message.register(kpi, Command("kpi"), IsOperator(), InTeamPlace())
    router.message.register(team_help, Command("help"), IsOperator(), InTeamPlace())
    # an operator asking in a community: the members there must not see the figures
    router.message.register(elsewhere, Command(*TEAM_COMMANDS), IsOperator())
    router.message.register(refuse, Command(*TEAM_COMMANDS))
    router.message.register(team_leaver, TeamChat(), F.left_chat_member)
    router.message.register(team_chatter, TeamChat())
    router.chat_member.register(team_membership, TeamChat())
    return router


async def kpi(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    await services.kpi_console.answer(
        origin(message, event_update), person(message.from_user), command.args, now
    )


async def team_help(
    message: Message, services: Services, now: datetime, event_update: Update
) -> None:
    assert message.from_user is not None
    await services.team.answer_help(origin(message, event_update), person(message.from_user), now)


async def refuse(message: Message, services: Services, now: datetime, event_update: Update) -> None:
    assert message.from_user is not None
    await services.team.refuse(origin(message, event_update), person(message.from_user), now)


async def elsewhere(
    message: Message, services: Services, now: datetime, event_update: Update
) -> None:
    assert message.from_user is not None
    await services.team.answer_elsewhere(
        origin(message, event_update), person(message.from_user), now
    )


async def team_chatter(
    message: Message,
    config: CommunityConfig,
    services: Services,
    operators: OperatorDirectory,
    now: datetime,
) -> None:
    """Whoever speaks in the team chat is on the team: their answers in the communities count
    as first responses (remembered in memory and in the database)."""
    if (
        message.from_user is not None
        and config.team.chat is not None
        and not message.from_user.is_bot
    ):
        operators.remember(config.team.chat, message.from_user.id)
        await services.community.record_teammate(person(message.from_user), True, now)


async def team_leaver(
    message: Message,
    config: CommunityConfig,
    services: Services,
    operators: OperatorDirectory,
    now: datetime,
) -> None:
    """The "X left" service message (sent as if by X): gone from the team, not speaking in it
    (the only sign a bot that is not admin there gets)."""
    user = message.left_chat_member
    if user is not None and config.team.chat is not None and not user.is_bot:
        operators.remember(config.team.chat, user.id, False)
        await services.community.record_teammate(person(user), False, now)


async def team_membership(
    event: ChatMemberUpdated, services: Services, operators: OperatorDirectory, now: datetime
) -> None:
    """Joined or left the team chat."""
    user = event.new_chat_member.user
    if not user.is_bot:
        present = event.new_chat_member.status in ("creator", "administrator", "member") or (
            event.new_chat_member.status == "restricted"
            and bool(getattr(event.new_chat_member, "is_member", False))
        )
        operators.remember(event.chat.id, user.id, present)
        await services.community.record_teammate(person(user), present, now)
