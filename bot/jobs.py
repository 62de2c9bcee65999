"""A feature's loops: how one is declared (:class:`Job`) and what its tick is given
(:class:`JobContext`).

A job's body lives in its feature (``bot/services/<feature>/jobs.py``): an ``async`` function of
the context that does what is due, in transactions of its own, and returns when it next wants to
run (or ``None``: at the latest after ``poll``). The feature declares it (``bot/features/``);
the composition root (``bot/app.py``) gives each declared job a :class:`~bot.ticker.Ticker` on
the app's clock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.config import CommunityConfig
from bot.db.session import Database
from bot.runtime import ConfigHolder, Runtime, services_for
from bot.services import Services
from bot.ticker import Ticker
from sop.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    """What an update's committed transaction brought, for the loops it may concern."""

    #: someone joined a community (there is someone to greet)
    joined: bool
    #: a message in a community (a question may have opened)
    group_message: bool
    now: datetime
    config: CommunityConfig


@dataclass(frozen=True)
class Job:
    """One loop of a feature."""

    #: the loop's name (in logs, task names and docs/architecture.md)
    name: str
    tick: Callable[[JobContext], Awaitable[datetime | None]]
    #: it looks at least this often, even when nothing woke it
    poll: timedelta
    #: after each update's transaction commits: wakes the ticker when the update concerns it
    after_update: Callable[[Ticker, Committed], None] | None = None
    #: a config reload wakes it (it plans from the config)
    on_reload: bool = False
    #: seconds (real time) a wake waits for the wakes right behind it, so that a burst of
    #: updates makes one tick, not one each
    linger: float = 0.0


class JobContext:
    """The app-scoped things a job's tick may use; one per running bot, built by ``bot.app``."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: ConfigHolder,
        bot: Bot,
        wake_delivery: Callable[[], None],
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self._bot = bot
        self._wake_delivery = wake_delivery
        #: set by ``SopBot.start`` (the bot's identity comes from Telegram), before any tick
        self.runtime: Runtime | None = None
        #: every job's ticker by name (filled by the composition root)
        self.tickers: dict[str, Ticker] = {}
        #: what a job keeps between its ticks in this process (keyed by the job's name)
        self.state: dict[str, datetime] = {}
        #: the command menus this process set, by scope (the desk's ``menus`` loop)
        self.menus: dict[Any, Any] = {}

    @asynccontextmanager
    async def services(self) -> AsyncIterator[Services]:
        """One transaction, and the use cases on it (the config and engine of this moment)."""
        assert self.runtime is not None, "a job ticked before the bot started"
        async with self.db.transaction() as session:
            yield services_for(self.runtime, session)

    def wake_delivery(self) -> None:
        """The outbox has something new: the delivery loop looks now."""
        self._wake_delivery()

    def wake_by(self, job: str, at: datetime) -> None:
        """Makes sure the job ``job`` ticks no later than ``at``."""
        self.tickers[job].wake_by(at)

    async def member_count(self, chat_id: int) -> int | None:
        """Telegram's member count of a chat; ``None`` (logged) when Telegram refuses. A network
        call: make it outside any transaction."""
        try:
            return await self._bot.get_chat_member_count(chat_id)
        except TelegramAPIError as error:
            log.warning("member count of %d unavailable: %s", chat_id, error.message)
            return None

    async def set_commands(
        self,
        scope: str,
        chat_id: int | None,
        language_code: str,
        commands: Sequence[tuple[str, str]],
    ) -> bool | None:
        """``setMyCommands`` (``deleteMyCommands`` when ``commands`` is empty) for the scope
        ``all_private_chats`` or ``chat`` (``chat_id``). ``True`` when done, ``False`` when
        Telegram refused it for good, ``None`` when it is worth trying again later (429, a
        network or server error); refusals and failures are logged. A network call: make it
        outside any transaction."""
        chosen = (
            BotCommandScopeChat(chat_id=chat_id)
            if scope == "chat" and chat_id is not None
            else BotCommandScopeAllPrivateChats()
        )
        try:
            if commands:
                await self._bot.set_my_commands(
                    [BotCommand(command=name, description=text) for name, text in commands],
                    scope=chosen,
                    language_code=language_code or None,
                    request_timeout=10,
                )
            else:
                await self._bot.delete_my_commands(
                    scope=chosen, language_code=language_code or None, request_timeout=10
                )
        except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as error:
            log.warning(
                "command menu %s %s %s: try later: %s", scope, chat_id, language_code, error
            )
            return None
        except TelegramAPIError as error:
            log.warning(
                "command menu %s %s %s refused: %s", scope, chat_id, language_code, error.message
            )
            return False
        return True

    async def team_chat_facts(self, team_chat: int) -> tuple[bool, bool] | None:
        """``(is_forum, can_manage_topics)`` of the team chat as Telegram says; ``None``
        (logged) when it cannot be asked. A network call: make it outside any transaction."""
        try:
            chat = await self._bot.get_chat(team_chat)
            me = await self._bot.get_chat_member(team_chat, self._bot.id)
        except TelegramAPIError as error:
            log.warning("the team chat %d could not be checked: %s", team_chat, error.message)
            return None
        can = me.status == "creator" or bool(getattr(me, "can_manage_topics", False))
        return bool(chat.is_forum), can
