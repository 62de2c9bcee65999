"""Arrivals and departures in the communities: join requests, joins, leaves. Arrivals go
through join protection (``services.captcha``), which hands them to the welcome SOP at once
where a community has none."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import JOIN_TRANSITION, LEAVE_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import ChatJoinRequest, ChatMemberUpdated, Message

from bot.config import CommunityConfig
from bot.services import Services
from handlers.convert import link_source, person
from handlers.filters import InCommunity

log = logging.getLogger(__name__)


def setup() -> Router:
    router = Router(name="members")
    router.chat_join_request.register(join_requested, InCommunity())
    router.chat_member.register(joined, ChatMemberUpdatedFilter(JOIN_TRANSITION), InCommunity())
    router.chat_member.register(left, ChatMemberUpdatedFilter(LEAVE_TRANSITION), InCommunity())
    # the service messages say the same when the bot gets no chat_member updates (not admin)
    router.message.register(joined_by_message, F.new_chat_members, InCommunity())
    router.message.register(left_by_message, F.left_chat_member, InCommunity())
    router.my_chat_member.register(bot_blocked_or_unblocked, F.chat.type == ChatType.PRIVATE)
    router.my_chat_member.register(bot_status_changed)
    return router


async def join_requested(request: ChatJoinRequest, services: Services, now: datetime) -> None:
    await services.captcha.on_join_request(
        request.chat.id, person(request.from_user), link_source(request.invite_link), now
    )


async def joined(event: ChatMemberUpdated, services: Services, now: datetime) -> None:
    await services.captcha.on_join(
        event.chat.id,
        person(event.new_chat_member.user),
        link_source(event.invite_link),
        now,
        via_join_request=bool(event.via_join_request),
        at=event.date,
    )


async def left(event: ChatMemberUpdated, services: Services, now: datetime) -> None:
    await services.ledger.record_leave(
        event.chat.id, person(event.new_chat_member.user), now, event.date
    )


async def joined_by_message(message: Message, services: Services, now: datetime) -> None:
    for user in message.new_chat_members or []:
        await services.captcha.on_join(message.chat.id, person(user), None, now, at=message.date)


async def left_by_message(message: Message, services: Services, now: datetime) -> None:
    if message.left_chat_member is not None:
        await services.ledger.record_leave(
            message.chat.id, person(message.left_chat_member), now, message.date
        )


async def bot_blocked_or_unblocked(
    event: ChatMemberUpdated, services: Services, now: datetime
) -> None:
    """A member blocked the bot (``kicked``) or started it again."""
    await services.ledger.record_reachability(
        person(event.from_user), event.new_chat_member.status != "kicked", now
    )


async def bot_status_changed(event: ChatMemberUpdated, config: CommunityConfig) -> None:
    status = event.new_chat_member.status
    if config.is_community(event.chat.id):
        if status != "administrator":
            log.warning(
                "bot is %s in community %d: it needs admin rights to see joins",
                status,
                event.chat.id,
            )
    elif event.chat.id != config.team.chat and event.chat.type != ChatType.PRIVATE:
        log.warning("bot was made %s in chat %d, which is not in the config", status, event.chat.id)
