"""The peer of ``bench_scale.py``: a bare aiogram bot in webhook mode, a no-op handler for every
message but the keyword, which it answers in the chat. Run as a process of its own:

    python bench/_bare_webhook.py TOKEN API_URL WEBHOOK_URL LISTEN SECRET KEYWORD
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.api_session import BotApiSession


async def serve(token: str, api: str, url: str, listen: str, secret: str, keyword: str) -> None:
    router = Router()

    @router.message(F.text == keyword)
    async def answer(message: Message) -> None:
        await message.answer("got it")

    @router.message()
    async def nothing(message: Message) -> None:
        return None

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    async with Bot(token, session=BotApiSession(api)) as bot:
        app = web.Application()
        SimpleRequestHandler(
            dispatcher, bot, secret_token=secret, handle_in_background=False
        ).register(app, path="/tg/webhook")
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, _, port = listen.rpartition(":")
        await web.TCPSite(runner, host, int(port)).start()
        await bot.set_webhook(url, secret_token=secret, allowed_updates=["message"])
        print("ready", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:7]))
