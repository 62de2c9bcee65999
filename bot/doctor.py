"""``sopbot doctor``: what the running bot depends on, checked one line at a time, each failing
line saying what to do; the exit status is 1 when a check fails (a warning does not fail).

Checked: the token (``getMe``); whether the bot reads every group message (privacy mode off, or
an administrator); in each community the chat (a supergroup, where moderation, join protection
and message links need one) and the bot's administrator rights for what the config turns on;
the team chat (reachable, the bot in it; in a forum, the right to make topics for the service
desk); the webhook (``getWebhookInfo``: its URL against ``WEBHOOK_URL``, pending updates, the
last error); the database (reachable, migrated to the head); Redis (``PING``) when
``REDIS_URL`` is set. Nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import ChatFullInfo, User
from alembic.runtime.migration import MigrationContext

from bot.api_session import BotApiSession
from bot.config import CommunityConfig, Settings
from bot.db.migrate import head_revision
from bot.db.session import Database
from bot.db.url import masked
from bot.errors import SopbotError

#: seconds any one network check may take
CHECK_TIMEOUT = 10.0


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.verdict.value:<4}  {self.what}: {self.detail}"


def _supergroup_needed(config: CommunityConfig, chat_id: int) -> list[str]:
    chat = config.community(chat_id)
    needs = []
    if config.moderation_for(chat_id) is not None:
        needs.append("moderation (restricting members)")
    if chat is not None and chat.captcha is not None:
        needs.append("join protection (restricting members)")
    if config.alerts.keywords:
        needs.append("complaint alerts (t.me/c links to the message)")
    return needs


async def _timed(call: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(call, CHECK_TIMEOUT)


class Doctor:
    def __init__(self, settings: Settings, config: CommunityConfig, bot: Bot) -> None:
        self._settings = settings
        self._config = config
        self._bot = bot
        self.checks: list[Check] = []

    def _add(self, verdict: Verdict, what: str, detail: str) -> None:
        self.checks.append(Check(verdict, what, detail))

    async def run(self) -> list[Check]:
        me = await self._token()
        if me is not None:
            self._privacy(me)
            for chat in self._config.communities:
                await self._community(chat.chat_id, me)
            await self._team_chat(me)
            await self._webhook()
        await self._database()
        await self._redis()
        return self.checks

    # -- Telegram ---------------------------------------------------------------------------
    async def _token(self) -> User | None:
        try:
            me: User = await _timed(self._bot.get_me())
        except TelegramUnauthorizedError:
            self._add(
                Verdict.FAIL, "token", "Telegram refused it (401): check BOT_TOKEN with @BotFather"
            )
            return None
        except (TelegramNetworkError, TimeoutError) as error:
            self._add(
                Verdict.FAIL,
                "token",
                f"cannot reach the Bot API at {self._settings.telegram_api_url} "
                f"({type(error).__name__}): check TELEGRAM_API_URL and the network",
            )
            return None
        self._add(Verdict.OK, "token", f"@{me.username} ({me.id})")
        return me

    def _privacy(self, me: User) -> None:
        if me.can_read_all_group_messages:
            self._add(Verdict.OK, "privacy mode", "off: the bot reads every group message")
        else:
            self._add(
                Verdict.OK,
                "privacy mode",
                "on: the bot reads every message only where it is an administrator "
                "(checked below); @BotFather /setprivacy turns it off",
            )

    async def _chat(self, what: str, chat_id: int) -> ChatFullInfo | None:
        try:
            chat: ChatFullInfo = await _timed(self._bot.get_chat(chat_id))
        except TelegramAPIError as error:
            self._add(
                Verdict.FAIL,
                what,
                f"Telegram says {error.message!r}: is the id right, and is the bot in the chat?",
            )
            return None
        except (TelegramNetworkError, TimeoutError) as error:
            self._add(Verdict.FAIL, what, f"no answer from Telegram ({type(error).__name__})")
            return None
        return chat

    async def _bot_member(self, what: str, chat_id: int, me: User) -> dict[str, Any] | None:
        try:
            member = await _timed(self._bot.get_chat_member(chat_id, me.id))
        except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
            self._add(Verdict.FAIL, what, f"cannot see the bot's own membership ({error})")
            return None
        return dict(member.model_dump())

    async def _community(self, chat_id: int, me: User) -> None:
        what = f"community {chat_id}"
        chat = await self._chat(what, chat_id)
        if chat is None:
            return
        what = f"community {chat_id} ({chat.title})"
        if chat.type == "group":
            needs = _supergroup_needed(self._config, chat_id)
            if needs:
                self._add(
                    Verdict.FAIL,
                    what,
                    "a basic group: " + ", ".join(needs) + " need a supergroup; Telegram "
                    "upgrades the group when you turn on a supergroup-only setting (e.g. make "
                    "the chat history visible to new members), then put the new -100… id "
                    "in the config",
                )
            else:
                self._add(
                    Verdict.WARN,
                    what,
                    "a basic group: fine for now; moderation and join protection would need "
                    "a supergroup",
                )
        member = await self._bot_member(what, chat_id, me)
        if member is None:
            return
        status = member.get("status")
        if status not in ("administrator", "creator"):
            reads = (
                ""
                if me.can_read_all_group_messages
                else "; with privacy mode on it sees only commands and replies to it"
            )
            self._add(
                Verdict.FAIL,
                what,
                f"the bot is {status}, not an administrator{reads}: promote it in the "
                "group's settings → Administrators",
            )
            return
        needed = self._config.rights_needed(chat_id)
        missing = {r: why for r, why in needed.items() if status != "creator" and not member.get(r)}
        if missing:
            self._add(
                Verdict.FAIL,
                what,
                "the bot lacks "
                + "; ".join(f"{right} ({why})" for right, why in missing.items())
                + ": give it in the group's settings → Administrators → the bot",
            )
            return
        rights = ", ".join(sorted(needed)) or "none beyond being an administrator"
        self._add(
            Verdict.OK, what, f"{chat.type}, the bot is an administrator; rights needed: {rights}"
        )

    async def _team_chat(self, me: User) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            self._add(
                Verdict.WARN,
                "team chat",
                "not set (team.chat): alerts, reports and the service desk have nowhere to go",
            )
            return
        what = f"team chat {team_chat}"
        chat = await self._chat(what, team_chat)
        if chat is None:
            return
        member = await self._bot_member(what, team_chat, me)
        if member is None:
            return
        status = member.get("status")
        if status not in ("administrator", "creator", "member"):
            self._add(Verdict.FAIL, what, f"the bot is {status}: add it to the team chat")
            return
        if chat.is_forum and status != "creator" and not member.get("can_manage_topics"):
            self._add(
                Verdict.FAIL,
                what,
                "a forum, but the bot may not manage topics (can_manage_topics): the desk "
                "cannot give each member a topic; make the bot an administrator with it",
            )
            return
        shape = "a forum: one topic per member" if chat.is_forum else "replies to relayed messages"
        self._add(
            Verdict.OK, what, f"{chat.title}: the bot is {status}; the desk answers by {shape}"
        )

    async def _webhook(self) -> None:
        try:
            info = await _timed(self._bot.get_webhook_info())
        except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
            self._add(Verdict.FAIL, "webhook", f"getWebhookInfo failed ({error})")
            return
        wanted = self._settings.webhook_url
        pending = f"{info.pending_update_count} updates waiting"
        last = info.last_error_message
        told = f"; Telegram's last error: {last!r}" if last else ""
        if wanted:
            if info.url != wanted:
                self._add(
                    Verdict.WARN,
                    "webhook",
                    f"Telegram has {info.url or 'none'!r}, WEBHOOK_URL is {wanted!r}: "
                    f"sopbot run sets it at start; {pending}{told}",
                )
            else:
                verdict = Verdict.WARN if told else Verdict.OK
                self._add(verdict, "webhook", f"set to WEBHOOK_URL; {pending}{told}")
            return
        if info.url:
            self._add(
                Verdict.WARN,
                "webhook",
                f"Telegram has a webhook ({info.url!r}) but WEBHOOK_URL is not set: sopbot run "
                f"(long polling) removes it at start; {pending}",
            )
            return
        self._add(Verdict.OK, "webhook", f"none: long polling; {pending}")

    # -- the rest ---------------------------------------------------------------------------
    async def _database(self) -> None:
        what = f"database {masked(self._settings.database_url)}"
        database = Database(self._settings.database_url)
        try:
            await database.check()
            async with database.engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_heads()
                )
        except SopbotError as error:
            self._add(Verdict.FAIL, what, str(error))
            return
        finally:
            await database.dispose()
        head = head_revision()
        if current == (head,):
            self._add(Verdict.OK, what, f"reachable, migrated to the head ({head})")
        elif not current:
            self._add(
                Verdict.WARN, what, f"reachable, empty: sopbot run migrates it to {head} at start"
            )
        else:
            self._add(
                Verdict.WARN,
                what,
                f"reachable, at {', '.join(current)}: sopbot run migrates it to {head} at start",
            )

    async def _redis(self) -> None:
        url = self._settings.redis_url
        if not url:
            self._add(
                Verdict.OK, "redis", "not configured (REDIS_URL): one process, limits in memory"
            )
            return
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(
            url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT
        )
        what = f"redis {masked(url)}"
        try:
            await client.ping()  # type: ignore[misc]  # typed for the sync client too
        except (RedisError, OSError) as error:
            self._add(
                Verdict.FAIL,
                what,
                f"no answer to PING ({type(error).__name__}): is it running, is REDIS_URL right?",
            )
        else:
            self._add(Verdict.OK, what, "answers PING")
        finally:
            await client.aclose()


async def diagnose(settings: Settings, config: CommunityConfig) -> list[Check]:
    """Every check, in order (a failing token skips the other Telegram checks)."""
    assert settings.bot_token is not None
    bot = Bot(
        settings.bot_token.get_secret_value(), session=BotApiSession(settings.telegram_api_url)
    )
    try:
        return await Doctor(settings, config, bot).run()
    finally:
        await bot.session.close()


def report(checks: list[Check], out: Callable[[str], None] = print) -> int:
    """Prints one line per check and a summary; 1 when a check failed."""
    for check in checks:
        out(check.line())
    failed = sum(c.verdict is Verdict.FAIL for c in checks)
    warned = sum(c.verdict is Verdict.WARN for c in checks)
    out(
        f"{len(checks)} checks: {failed} failed, {warned} warnings"
        + (" — fix the FAIL lines above" if failed else "")
    )
    return 1 if failed else 0
