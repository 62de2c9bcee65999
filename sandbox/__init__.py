"""A fake Telegram Bot API server (aiohttp) for tests and the offline demo.

It serves one bot token over real HTTP so the real aiogram ``Bot`` can be pointed at it, records
every call, and enforces Telegram's validation and flood limits with Telegram's own error
answers, so aiogram raises its real ``TelegramRetryAfter``, ``TelegramForbiddenError``...
"""

from .core import TelegramSandbox
from .limits import Limits
from .records import Call, SentFile, SentMessage

__all__ = ["Call", "Limits", "SentFile", "SentMessage", "TelegramSandbox"]
