"""``TelegramSandbox``: the fake Telegram a real aiogram ``Bot`` talks to over HTTP.

    sb = TelegramSandbox(token="123456:TEST", clock=manual.timestamp)
    url = await sb.start()
    bot = Bot(sb.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    sb.add_user(42, "Ann"); sb.user_sends(42, "/start")
    ...
    await sb.stop()

All time logic (message dates, flood windows, penalties) uses the injected clock; only
``delay()`` and long polling wait in real time.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import methods_commands
from .actions import UserActions
from .errors import ApiError
from .limits import Limits
from .records import Call, SentFile, SentMessage
from .server import ApiServer, canonical
from .world import BOT_USERNAME, World

log = logging.getLogger(__name__)


class TelegramSandbox(UserActions):
    """A Bot API server for one bot token, with a scriptable world and a full call record."""

    def __init__(
        self,
        token: str = "123456:TEST",
        clock: Callable[[], float] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.world = World(token, clock or time.time, limits or Limits())
        self._server = ApiServer(self.world)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); return the base URL."""
        runner = web.AppRunner(
            self._server.app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._url = f"http://{host}:{bound_port}"
        log.info("Telegram sandbox for bot %s listening on %s", self.bot_id, self._url)
        return self._url

    async def stop(self) -> None:
        """End long polls and stop serving."""
        self.world.updates.close()
        await self.world.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The base URL (``http://host:port``) once started."""
        if self._url is None:
            raise RuntimeError("sandbox: not started; await start() first")
        return self._url

    @property
    def token(self) -> str:
        """The one bot token served."""
        return self.world.token

    @property
    def bot_id(self) -> int:
        """The bot's user id (the number before ``:`` in the token)."""
        return self.world.bot_id

    @property
    def bot_username(self) -> str:
        """The bot's username."""
        return BOT_USERNAME

    @property
    def limits(self) -> Limits:
        """The flood limits in force."""
        return self.world.limiter.limits

    # -- inspection -------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every API call so far, in order."""
        return self._server.calls

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully (as sent, before later edits), in order."""
        return [m for m in self.world.sent if chat_id is None or m.chat_id == chat_id]

    def sent_files(self, chat_id: int | None = None) -> list[SentFile]:
        """Files the bot sent successfully (uploaded bytes and name included), in order."""
        return [f for f in self.world.files if chat_id is None or f.chat_id == chat_id]

    def get_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """A bot message's current state after edits; ``None`` if unknown or deleted."""
        return self.world.bot_messages.get((chat_id, message_id))

    def count_errors(self, code: int) -> int:
        """How many calls were answered with ``error_code == code``."""
        return sum(1 for call in self.calls if call.error_code == code)

    @property
    def early_retries(self) -> int:
        """Requests to a chat still in a 429 penalty (the client ignored ``retry_after``)."""
        return self.world.limiter.early_retries

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last ``allowed_updates`` ``getUpdates`` was called with (``None``: never)."""
        return self.world.updates.last_allowed_updates

    @property
    def approved_requests(self) -> list[tuple[int, int]]:
        """``(chat_id, user_id)`` of approved join requests."""
        return list(self.world.approved)

    @property
    def declined_requests(self) -> list[tuple[int, int]]:
        """``(chat_id, user_id)`` of declined join requests."""
        return list(self.world.declined)

    @property
    def invite_links(self) -> list[dict[str, Any]]:
        """Links created by ``createChatInviteLink`` (``ChatInviteLink`` + ``chat_id``)."""
        return [dict(link) for link in self.world.invite_links]

    @property
    def commands(self) -> dict[str, list[dict[str, Any]]]:
        """Menus set by ``setMyCommands``, keyed by scope and language
        (:func:`sandbox.methods_commands.scope_key`: ``"default:"``, ``"all_private_chats:zh"``,
        ``"chat:-1002001:"``, ``"chat_member:-1002001:101:en"``)."""
        return {key: [dict(c) for c in menu] for key, menu in self.world.commands.items()}

    def visible_commands(
        self, chat_id: int, user_id: int, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The menu ``user_id`` (whose app speaks ``language_code``) sees in ``chat_id``, as
        Telegram picks it: the narrowest scope set, the user's language before none."""
        return methods_commands.visible_commands(self.world, chat_id, user_id, language_code)

    def pending_updates(self) -> int:
        """Updates queued but not yet delivered through ``getUpdates``."""
        return self.world.updates.pending()

    def unconfirmed_updates(self) -> int:
        """Updates queued, delivered or not, that no ``offset`` has confirmed yet."""
        return self.world.updates.unconfirmed()

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 30.0,  # noqa: ASYNC109  on expiry it reports the predicate and calls
    ) -> None:
        """Poll (real time) until ``predicate()`` is true; ``AssertionError`` on timeout, with
        the predicate's source and the last calls (which a caller's ``asyncio.timeout`` lacks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(self._timeout_report(predicate, timeout))
            await asyncio.sleep(0.01)

    def _timeout_report(self, predicate: Callable[[], bool], timeout: float) -> str:
        try:
            what = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            what = getattr(predicate, "__qualname__", repr(predicate))
        recent = (
            "\n".join(
                f"  {c.method} {c.params} -> {'ok' if c.ok else f'{c.error_code} {c.description}'}"
                for c in self.calls[-10:]
                if c.method != "getUpdates"
            )
            or "  (none)"
        )
        return (
            f"sandbox: condition not met within {timeout}s: {what}\n"
            f"pending updates: {self.pending_updates()}, calls: {len(self.calls)}, "
            f"sent messages: {len(self.world.sent)}\nrecent calls (getUpdates omitted):\n"
            f"{recent}"
        )

    # -- fault injection --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error instead of running it."""
        queue = self._server.faults.setdefault(canonical(method), [])
        queue.extend(
            ApiError(error_code, description, retry_after=retry_after) for _ in range(times)
        )

    def garble_next(self, method: str, *, times: int = 1) -> None:
        """Perform the next ``times`` calls of ``method`` (a message is sent and recorded), then
        answer each ``200 {"ok": true, "result": ...}`` with a result no client can read as
        the method's type (a proxy mangling the body, a truncated answer): the caller cannot
        know what became of its call."""
        name = canonical(method)
        self._server.garbles[name] = self._server.garbles.get(name, 0) + times

    def delay(
        self,
        method: str,
        seconds: float,
        *,
        only: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer ``method`` only after ``seconds`` of real time (0 removes the delay); with
        ``only``, just the calls whose parameters it accepts (e.g. the poll that confirms an
        update: ``only=lambda p: int(p.get("offset") or 0) > update_id``).

        The method runs after the wait; if the client has gone by then, nothing happens
        (a message is not sent) and the call is recorded as not ok.
        """
        name = canonical(method)
        self._server.delays[name] = seconds
        if only is None:
            self._server.delay_only.pop(name, None)
        else:
            self._server.delay_only[name] = only
