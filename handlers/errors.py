"""The one place unexpected errors end: logged with the update id, never shown to a user."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

log = logging.getLogger(__name__)


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent) -> bool:
    log.error("update %s failed: %s", event.update.update_id, type(event.exception).__name__,
              exc_info=event.exception)
    return True
