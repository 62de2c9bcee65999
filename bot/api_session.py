"""The HTTP session to the Bot API: aiogram's, closed without its fixed 250 ms wait when no TLS
connection was made.

aiogram's ``AiohttpSession.close`` always sleeps 250 ms after closing, for aiohttp's TLS
transports to finish closing (aiohttp's "graceful shutdown" advice). A bot talking plain
``http://`` (a local Bot API server, the sandbox of the tests and the demo) has no TLS
transport to wait for: its stop (and every test's teardown) need not take a quarter second.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

#: what aiogram waits for TLS transports to close
TLS_CLOSE_WAIT = 0.25


class BotApiSession(AiohttpSession):
    def __init__(self, api_url: str, **kwargs: Any) -> None:
        super().__init__(api=TelegramAPIServer.from_base(api_url.rstrip("/")), **kwargs)
        self._tls = api_url.lower().startswith("https:")

    async def close(self) -> None:
        session = self._session
        if session is None or session.closed:
            return
        await session.close()
        if self._tls:
            await asyncio.sleep(TLS_CLOSE_WAIT)
