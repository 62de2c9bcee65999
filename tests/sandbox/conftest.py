"""Fixtures: a sandbox per test and a real aiogram Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot

from bot.api_session import BotApiSession
from sandbox import Limits, TelegramSandbox

TOKEN = "123456:TEST"
GROUP = -1002001
ANN = 101
BOB = 102


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_bot(sb: TelegramSandbox, token: str = TOKEN) -> Bot:
    return Bot(token, session=BotApiSession(sb.url))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def sb(clock: ManualClock) -> AsyncIterator[TelegramSandbox]:
    sandbox = TelegramSandbox(token=TOKEN, clock=clock, limits=Limits())
    await sandbox.start()
    sandbox.add_chat(GROUP, title="Brand Club")
    sandbox.add_user(ANN, "Ann", username="ann")
    sandbox.add_user(BOB, "Bob")
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def bot(sb: TelegramSandbox) -> AsyncIterator[Bot]:
    async with make_bot(sb) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, for requests aiogram would not make."""
    async with aiohttp.ClientSession() as session:
        yield session
