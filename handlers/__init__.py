"""The routers, in the order they are asked: specific first, catch-alls last."""

from __future__ import annotations

from aiogram import Router

from bot.config import CommunityConfig
from handlers import (
    activity,
    broadcast,
    buttons,
    console,
    errors,
    members,
    moderation,
    referrals,
    sop_commands,
    start,
    team,
)
from handlers import coupons as coupon_commands
from handlers import tags as tag_commands
from handlers.audit import AuditMiddleware


def setup() -> Router:
    root = Router(name="sopbot")
    root.message.outer_middleware(AuditMiddleware())  # every team command, however it ends
    for feature in (
        errors,
        moderation,  # before the commands: a message being deleted goes no further
        start,
        members,
        sop_commands,
        tag_commands,
        broadcast,
        coupon_commands,
        console,
        referrals,
        team,
        activity,
        buttons,
    ):
        root.include_router(feature.setup())
    return root


#: update types the bot asks Telegram for (chat_member and chat_join_request are only sent
#: when asked for explicitly)
ALLOWED_UPDATES = [
    "message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
]


def allowed_updates(config: CommunityConfig) -> list[str]:
    """:data:`ALLOWED_UPDATES`, and ``edited_message`` once moderation or complaint words are
    configured (an edit can turn a message into spam)."""
    return [*ALLOWED_UPDATES, *(["edited_message"] if config.watches_messages else [])]
