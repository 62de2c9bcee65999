"""What a cleanup does once the outbox settled one of its calls: a removal's ban and unban
settled make the member removed (or failed, with Telegram's reason), audited and counted; after
the last one the operator is told in one line (:func:`tell_done`)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.durations import format_duration
from bot.db.models import OutboxMessage
from bot.db.models.cleanup import Cleanup, CleanupStatus, TargetStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.cleanup import CleanupRepository
from bot.db.repositories.moderation import ModActionRepository
from bot.services.messenger import Messenger
from bot.services.welcome.service import ConfigHolderLike

log = logging.getLogger(__name__)


class CleanupDeliveryHook:
    """A removal's ban and unban settled: the member counts as removed (or failed, with
    Telegram's reason), audited and counted; after the last one the operator is told."""

    def __init__(self, holder: ConfigHolderLike) -> None:
        self._holder = holder

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._settled(session, row, now, None)

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None:
        return None

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        await self._settled(session, row, now, (row.last_error or "failed")[:120])

    async def _settled(
        self, session: AsyncSession, row: OutboxMessage, now: datetime, error: str | None
    ) -> None:
        if row.purpose != Purpose.CLEANUP:
            return
        cleanup_id, step = row.payload["_cleanup"]
        user_id = int(row.payload["user_id"])
        repo = CleanupRepository(session)
        cleanup = await repo.lock(int(cleanup_id))
        if cleanup is None:
            return
        if step == "ban":
            after = TargetStatus.BANNED if error is None else TargetStatus.FAILED
            if not await repo.move(cleanup.id, user_id, TargetStatus.PENDING, after, error):
                return
        else:
            after = TargetStatus.REMOVED if error is None else TargetStatus.FAILED
            if not await repo.move(cleanup.id, user_id, TargetStatus.BANNED, after, error):
                return  # its ban failed: already counted
        if after == TargetStatus.REMOVED:
            cleanup.removed += 1
        elif after == TargetStatus.FAILED:
            cleanup.failed += 1
            reason = _reason(error or "", step)
            cleanup.reasons = {**cleanup.reasons, reason: int(cleanup.reasons.get(reason, 0)) + 1}
        if after != TargetStatus.BANNED:
            await self._record(session, cleanup, user_id, after, error, row, now)
        if not await repo.count(cleanup.id, TargetStatus.PENDING, TargetStatus.BANNED):
            await self._finish(session, cleanup, now)

    async def _record(
        self,
        session: AsyncSession,
        cleanup: Cleanup,
        user_id: int,
        status: str,
        error: str | None,
        row: OutboxMessage,
        now: datetime,
    ) -> None:
        if status == TargetStatus.REMOVED:
            await ModActionRepository(session).add(
                chat_id=cleanup.chat_id,
                user_id=user_id,
                action="cleanup",
                rule=cleanup.kind,
                at=now,
                by_user_id=cleanup.operator_id,
            )
        # not an update of its own: the entry is known by minus its outbox row's id (Telegram's
        # update ids are positive), one per removal
        await AuditRepository(session).add(
            update_id=-row.id,
            at=now,
            user_id=cleanup.operator_id,
            user_name=f"cleanup #{cleanup.id}",
            chat_id=cleanup.chat_id,
            chat_kind=ChatKind.GROUP,
            command="cleanup",
            args=f"remove {user_id}" + (f": {error}" if error else ""),
            result="ok" if status == TargetStatus.REMOVED else "error",
        )

    async def _finish(self, session: AsyncSession, cleanup: Cleanup, now: datetime) -> None:
        config = self._holder.loaded.config
        messenger = Messenger(session, self._holder.loaded.renderer, config)
        await tell_done(messenger, config, cleanup, now)


async def tell_done(
    messenger: Messenger, config: CommunityConfig, cleanup: Cleanup, now: datetime
) -> None:
    """The cleanup is over: the operator is told, in one line, where they asked."""
    cleanup.status, cleanup.finished_at = CleanupStatus.DONE, now
    community = config.community(cleanup.chat_id)
    await messenger.send(
        key=f"cleanup:{cleanup.id}:done",
        chat_id=cleanup.answer_chat_id,
        chat_kind=ChatKind(cleanup.answer_chat_kind),
        purpose=Purpose.TEAM,
        template="cleanup_done",
        locale=cleanup.locale,
        context={
            "community": community.title if community else str(cleanup.chat_id),
            "removed": cleanup.removed,
            "failed": cleanup.failed,
            "reasons": sorted(cleanup.reasons.items(), key=lambda kv: -int(kv[1])),
            "took": format_duration(now - (cleanup.confirmed_at or now)),
        },
        now=now,
    )
    log.info("cleanup %d done: %d removed, %d failed", cleanup.id, cleanup.removed, cleanup.failed)


def _reason(error: str, step: str) -> str:
    """Telegram's description, short: ``400 Bad Request: user is an administrator of the
    chat`` → ``user is an administrator of the chat``."""
    text = error.split("Bad Request:", 1)[-1].strip() or error
    return (text if step == "ban" else f"unban: {text}")[:80]
