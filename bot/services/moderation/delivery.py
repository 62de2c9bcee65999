"""What community order does once the outbox settled one of its rows: a short notice to the
group (to a member the bot cannot DM) deletes itself a minute after it went; a rules post is
pinned (``pinChatMessage``); a join protection challenge in the group starts its joiners' time
(:class:`CaptchaDeliveryHook`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.moderation import LONGEST_CAPTCHA, CaptchaConfig
from bot.db.models import OutboxMessage
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.repositories.captcha import CaptchaRepository
from bot.db.repositories.moderation import RULES_POST
from bot.services.moderation.service import SELF_DELETING
from bot.services.welcome.service import ConfigHolderLike

#: when the config gives no length (the row outlived a reload)
DEFAULT_LASTS = timedelta(seconds=60)


class ModerationDeliveryHook:
    def __init__(self, lasts: timedelta = DEFAULT_LASTS) -> None:
        self._lasts = lasts

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        if row.message_id is None:
            return
        if row.purpose == RULES_POST:
            await OutboxRepository(session).enqueue(
                key=f"rules:pin:{row.chat_id}:{row.message_id}",
                chat_id=row.chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.MODERATION,
                method="pinChatMessage",
                payload={"message_id": row.message_id, "disable_notification": True},
                now=now,
            )
            return
        if row.purpose != SELF_DELETING:
            return
        await OutboxRepository(session).enqueue(
            key=f"mod:del:{row.chat_id}:{row.message_id}",
            chat_id=row.chat_id,
            chat_kind=ChatKind.API,
            purpose=Purpose.MODERATION,
            method="deleteMessage",
            payload={"message_id": row.message_id},
            now=now,
            due_at=now + self._lasts,
        )

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        return None

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        return None


class CaptchaDeliveryHook:
    """A group challenge went: its joiners have ``captcha.within`` from now at least (a backlog
    of the group's messages does not eat their time), and the message id is kept to delete it;
    one whose joiners all settled meanwhile is deleted at once."""

    def __init__(self, holder: ConfigHolderLike) -> None:
        self._holder = holder

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        captchas = CaptchaRepository(session)
        challenge = row.payload.get("_captcha")
        if isinstance(challenge, int):  # a join request's DM: the requester's time from now,
            # within the five minutes Telegram lets the bot write to them
            sent = await captchas.get(challenge)
            if sent is not None and sent.status == "pending":
                captcha = self._holder.loaded.config.captcha_for(sent.chat_id) or CaptchaConfig()
                latest = sent.created_at + LONGEST_CAPTCHA
                sent.deadline = max(sent.deadline, min(now + captcha.within, latest))
            return
        if row.purpose != Purpose.CAPTCHA_GROUP:
            return
        captcha = self._holder.loaded.config.captcha_for(row.chat_id) or CaptchaConfig()
        await captchas.challenge_sent(row.id, row.message_id, now + captcha.within)
        if row.message_id is not None and not await captchas.any_pending(row.id):
            await OutboxRepository(session).enqueue(
                key=f"captcha:del:{row.chat_id}:{row.message_id}",
                chat_id=row.chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.CAPTCHA,
                method="deleteMessage",
                payload={"message_id": row.message_id},
                now=now,
                lane=SERVICE_LANE,
            )

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        return None

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        return None
