"""Every team command into the audit log, whoever asked it and however it ended.

A message middleware on the root router: it runs inside the update's transaction (opened by
``UpdateContextMiddleware``), so the entry commits with the command's effects. The command runs
inside a savepoint: when it raises, its effects are rolled back to the savepoint, the operator
is told it failed, the entry says ``error`` and the transaction still commits (a plain rollback
would have taken the entry with it). The error is logged here with the update id.

The result comes from what ``services.team`` answered (``TeamService.outcome``): ``ok``,
``usage``, ``refused``, ``elsewhere``; ``ignored`` when no handler took the command (a chat
the bot does not serve).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED, CancelHandler, SkipHandler
from aiogram.types import Message, TelegramObject, Update

from bot.failures import is_infrastructure_error
from bot.services import Services
from bot.services.records.audit import ERROR, IGNORED, OK, CommandCall, read_command
from handlers.convert import origin, person

log = logging.getLogger(__name__)


class AuditMiddleware(BaseMiddleware):
    """``team_commands``: every feature's (``bot.feature.Feature.team_commands``)."""

    def __init__(self, team_commands: Collection[str]) -> None:
        self._team_commands = frozenset(team_commands)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        services: Services | None = data.get("services")
        update: Update | None = data.get("event_update")
        if (
            services is None
            or update is None
            or not isinstance(event, Message)
            or event.from_user is None
        ):  # (an anonymous admin is logged as Telegram's bot)
            return await handler(event, data)
        parsed = read_command(event.text or event.caption)
        if parsed is None or parsed[0] not in self._team_commands:
            return await handler(event, data)
        command, mention, args = parsed
        call = CommandCall(
            command=command,
            args=args,
            mention=mention,
            origin=origin(event, update),
            person=person(event.from_user),
        )
        now = data["now"]
        try:
            async with services.audit.savepoint():
                result = await handler(event, data)
        except (SkipHandler, CancelHandler):
            raise
        except Exception as error:
            if is_infrastructure_error(error):
                raise  # not the command's failure: the update comes again
            log.exception(
                "update %d: /%s failed; its effects were rolled back", update.update_id, command
            )
            await services.team.answer_error(call.origin, call.person, command, now)
            await services.audit.record(call, ERROR, now)
            return None
        if result is UNHANDLED and services.team.outcome is None:
            if mention is not None:  # most likely addressed to another bot in the group
                return result
            await services.audit.record(call, IGNORED, now)
            return result
        await services.audit.record(call, services.team.outcome or OK, now, services.team.renamed)
        return result
