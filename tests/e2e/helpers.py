"""Helpers the e2e tests share: waiting for the bot to catch up with the sandbox (real time,
bounded), moving the virtual clock, broadcast drafts and members, webhook and shop settings."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import aiohttp

from bot.app import SopBot
from bot.config import Settings
from bot.db.models import Member
from bot.idle import wait_idle
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TOKEN, unused_port


async def settle(
    app: SopBot,
    sandbox: TelegramSandbox,
    timeout: float = 30.0,  # noqa: ASYNC109  SopBot.wait_idle's bound, whose error says what is busy
) -> None:
    """Until every queued update was fetched and handled and nothing is due in the outbox."""
    await wait_idle(app, sandbox.pending_updates, timeout=timeout)


# -- broadcasts (tests/e2e/test_broadcast.py, test_delivery_hardening.py) ----------------------


async def seed(
    app: SopBot,
    sandbox: TelegramSandbox,
    ids: Iterable[int],
    *,
    language: str = "en",
    reachable: bool = True,
) -> list[int]:
    """Members who started the bot earlier (in the ledger and allowed by Telegram)."""
    users = list(ids)
    now = app.clock.now()
    async with app.db.transaction() as session:
        for uid in users:
            sandbox.add_user(uid, f"M{uid}", language_code=language)
            if reachable:
                sandbox.world.dm_allowed.add(uid)
            session.add(
                Member(
                    user_id=uid,
                    first_name=f"M{uid}",
                    language_code=language,
                    first_seen_at=now - timedelta(days=3),
                    dm_allowed=reachable,
                    started_at=now - timedelta(days=3),
                )
            )
    return users


def copies(sandbox: TelegramSandbox, users: Iterable[int]) -> Counter[int]:
    wanted = set(users)
    return Counter(
        m.chat_id
        for m in sandbox.sent_messages()
        if m.chat_id in wanted and m.method in ("copyMessage", "sendMessage")
    )


def card(sandbox: TelegramSandbox, chat: int = OPERATOR) -> SentMessage:
    cards = [
        m for m in sandbox.sent_messages(chat) if m.reply_markup and "bc:" in str(m.reply_markup)
    ]
    assert cards, f"no broadcast card in {[m.text for m in sandbox.sent_messages(chat)]}"
    return cards[-1]


def button(message: SentMessage, prefix: str) -> str:
    match = re.search(rf"'({prefix}\d+)'", str(message.reply_markup))
    assert match, message.reply_markup
    return match.group(1)


async def draft(
    app: SopBot,
    sandbox: TelegramSandbox,
    command: str,
    text: str = "Big sale tonight!",
    chat: int | None = None,
) -> SentMessage:
    """The operator writes a message, replies to it with ``command``; returns the card."""
    where = chat or OPERATOR
    sandbox.user_sends(OPERATOR, text, chat_id=chat)
    source = max(k[1] for k in sandbox.world.messages if k[0] == where)
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, command, chat_id=chat, reply_to_message_id=source)
    await until(app, sandbox, lambda: has_card(sandbox, where))
    return card(sandbox, where)


def has_card(sandbox: TelegramSandbox, chat: int = OPERATOR) -> bool:
    return any(m.reply_markup and "bc:" in str(m.reply_markup) for m in sandbox.sent_messages(chat))


async def until(
    app: SopBot, sandbox: TelegramSandbox, predicate: Callable[[], bool], seconds: int = 10
) -> None:
    """Virtual seconds pass (one private message a second) until ``predicate()``."""
    await run_clock(app, sandbox, sandbox_clock(app), seconds, until=predicate)
    assert predicate(), "not reached in virtual time"


def sandbox_clock(app: SopBot) -> ManualClock:
    assert isinstance(app.clock, ManualClock)
    return app.clock


async def run_clock(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    seconds: int,
    until: Callable[[], bool] | None = None,
) -> None:
    for _ in range(seconds):
        await settle(app, sandbox)
        if until is not None and until():
            return
        clock.advance(seconds=1)
    await settle(app, sandbox)


# -- webhook mode (tests/e2e/test_webhook.py, test_resilience.py) ------------------------------

WEBHOOK_SECRET = "s3cret-token"


def webhook_settings(
    api_url: str, database_url: str, *, path: str = "/hook", secret: str | None = WEBHOOK_SECRET
) -> tuple[Settings, str]:
    """Settings for webhook mode on a free local port, and the webhook's URL."""
    port = unused_port()
    url = f"http://127.0.0.1:{port}{path}"
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=api_url,
        database_url=database_url,
        webhook_url=url,
        webhook_secret=secret,
        webhook_listen=f"127.0.0.1:{port}",
    )
    return settings, url


# -- the orders endpoint (tests/e2e/test_orders_api.py, test_orders_hardening.py) --------------

SHOP_SECRET = "s3cret-for-the-shop-0123456789abcdef"


def sign(body: bytes, secret: str = SHOP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(
    app: SopBot, body: bytes | dict[str, Any], *, signature: str | bool | None = True
) -> tuple[int, dict[str, Any]]:
    """POSTs an order to the running bot's ``/api/orders``, signed unless told otherwise."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is True:
        headers["X-Sopbot-Signature"] = sign(raw)
    elif isinstance(signature, str):
        headers["X-Sopbot-Signature"] = signature
    assert app.orders_api is not None and app.orders_api.url is not None
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{app.orders_api.url}/api/orders", data=raw, headers=headers) as response,
    ):
        return response.status, await response.json()
