"""``/invite`` in a private chat: the member's personal invite link to the community."""

from __future__ import annotations

import time
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import Message, Update

from bot.services import Services
from bot.services.commerce.referrals import InviteLinkError
from handlers.convert import origin, person
from handlers.filters import MEMBER_STATUSES

#: Telegram's "not a member" is remembered this long (seconds): a stream of /invite from a
#: stranger must not make a round trip each, with the update's transaction open
NOT_MEMBER_TTL = 300.0


def setup() -> Router:
    router = Router(name="referrals")
    not_members: dict[tuple[int, int], float] = {}

    async def invite(
        message: Message, services: Services, now: datetime, event_update: Update, bot: Bot
    ) -> None:
        assert message.from_user is not None

        async def create_link(chat_id: int, name: str) -> str:
            # once per member: the only Bot API call made while handling an update
            try:
                link = await bot.create_chat_invite_link(chat_id, name=name, request_timeout=10)
            except TelegramAPIError as error:
                raise InviteLinkError(error.message) from error
            return link.invite_link

        async def is_member(chat_id: int, user_id: int) -> bool:
            """Someone from before the bot: the ledger never saw them join."""
            asked = not_members.get((chat_id, user_id))
            if asked is not None and time.monotonic() - asked < NOT_MEMBER_TTL:
                return False
            try:
                member = await bot.get_chat_member(chat_id, user_id, request_timeout=10)
                present = member.status in MEMBER_STATUSES and getattr(member, "is_member", True)
            except TelegramAPIError:
                present = False
            if not present:
                for key in [
                    k for k, at in not_members.items() if time.monotonic() - at >= NOT_MEMBER_TTL
                ]:
                    del not_members[key]
                not_members[(chat_id, user_id)] = time.monotonic()
            return present

        await services.referrals.answer_invite(
            origin(message, event_update),
            person(message.from_user),
            now,
            is_member=is_member,
            create_link=create_link,
        )

    router.message.register(invite, Command("invite"), F.chat.type == ChatType.PRIVATE, F.from_user)
    return router
