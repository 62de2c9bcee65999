"""One session, one transaction, one ``Services`` per update; each update handled once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.db.repositories import UpdateRepository
from bot.runtime import Runtime
from bot.services import Services

log = logging.getLogger(__name__)


class UpdateContextMiddleware(BaseMiddleware):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        runtime = self._runtime
        runtime.updates_in_flight += 1
        try:
            return await self._handle(handler, event, data)
        finally:
            runtime.updates_in_flight -= 1

    async def _handle(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                      event: Update, data: dict[str, Any]) -> Any:
        runtime = self._runtime
        now = runtime.clock.now()
        config = runtime.config.current
        async with runtime.db.transaction() as session:
            if not await UpdateRepository(session).claim(event.update_id, now):
                log.info("update %d was handled before; skipped", event.update_id)
                return None
            data["services"] = Services.create(session, config, runtime.renderer,
                                               runtime.identity)
            data["config"] = config
            data["now"] = now
            result = await handler(event, data)
        runtime.after_commit(_is_join(event))
        return result


def _is_join(update: Update) -> bool:
    if update.chat_member is not None:
        return True
    return update.message is not None and bool(update.message.new_chat_members)
