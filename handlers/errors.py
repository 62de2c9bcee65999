"""The one place unexpected errors end: logged with the update id, never shown to a user.

An infrastructure failure (the database locked or gone, the network down) is not the update's
fault and does not end here: it goes on up, so the update is not confirmed and comes again
(``bot.receiving``).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import ErrorEvent

from bot.failures import is_infrastructure_error

log = logging.getLogger(__name__)


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent) -> bool:
    if is_infrastructure_error(event.exception):
        raise SkipHandler  # unhandled: aiogram raises it again to the receiving side
    log.error(
        "update %s failed: %s",
        event.update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    return True
