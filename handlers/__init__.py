"""The routers, in the order they are asked: specific first, catch-alls last."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    activity,
    broadcast,
    buttons,
    console,
    desk,
    errors,
    members,
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
        start,
        members,
        sop_commands,
        tag_commands,
        broadcast,
        coupon_commands,
        console,
        referrals,
        desk,  # before team: replies in the team chat may be answers to members
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
