"""Flood limits on the sandbox clock: 429 with Telegram's retry_after, penalties, early retries."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from sandbox import Limits, TelegramSandbox

from .conftest import ANN, GROUP, ManualClock, make_bot


async def test_group_limit_and_early_retry(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    for i in range(20):
        await bot.send_message(GROUP, f"post {i}")
        clock.advance(1)  # t = 0..19
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(GROUP, "one too many")  # t = 20: the t=0 slot frees at 60
    assert err.value.retry_after == 40
    assert sb.count_errors(429) == 1 and sb.early_retries == 0

    clock.advance(10)
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(GROUP, "ignoring retry_after")
    assert err.value.retry_after == 30 and sb.early_retries == 1

    clock.advance(30)
    await bot.send_message(GROUP, "patient")
    assert len(sb.sent_messages(GROUP)) == 21


async def test_private_window_allows_small_bursts(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    sb.user_sends(ANN, "/start")
    for text in ("a", "b", "c"):
        await bot.send_message(ANN, text)  # 3 in one instant: private_window * 1/s
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(ANN, "d")
    assert err.value.retry_after == 3
    clock.advance(3)
    await bot.send_message(ANN, "d")
    assert [m.at - sb.sent_messages(ANN)[0].at for m in sb.sent_messages(ANN)] == [0, 0, 0, 3]
    assert sb.early_retries == 0


async def test_global_limit_counts_sends_not_edits(clock: ManualClock) -> None:
    sb = TelegramSandbox(clock=clock, limits=Limits(global_per_second=5))
    await sb.start()
    try:
        for chat_id in range(-10, -4):
            sb.add_chat(chat_id)
        async with make_bot(sb, sb.token) as bot:
            first = await bot.send_message(-10, "x")
            for chat_id in range(-9, -5):
                await bot.send_message(chat_id, "x")
            with pytest.raises(TelegramRetryAfter) as err:
                await bot.send_message(-5, "sixth in one second")
            assert err.value.retry_after == 1
            await bot.edit_message_text("edited", chat_id=-10, message_id=first.message_id)
            clock.advance(1)
            await bot.send_message(-5, "next second")
    finally:
        await sb.stop()


async def test_edits_count_against_the_chat(
    sb: TelegramSandbox, bot: Bot, clock: ManualClock
) -> None:
    sb.user_sends(ANN, "/start")
    sent = await bot.send_message(ANN, "v0")
    await bot.edit_message_text("v1", chat_id=ANN, message_id=sent.message_id)
    await bot.edit_message_text("v2", chat_id=ANN, message_id=sent.message_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("v3", chat_id=ANN, message_id=sent.message_id)
    current = sb.get_message(ANN, sent.message_id)
    assert current is not None and current.text == "v2"


async def test_limits_are_configurable(clock: ManualClock) -> None:
    sb = TelegramSandbox(clock=clock, limits=Limits(group_per_minute=2))
    await sb.start()
    try:
        sb.add_chat(GROUP)
        async with make_bot(sb, sb.token) as bot:
            await bot.send_message(GROUP, "1")
            clock.advance(5)
            await bot.send_message(GROUP, "2")
            with pytest.raises(TelegramRetryAfter) as err:
                await bot.send_message(GROUP, "3")
            assert err.value.retry_after == 55
    finally:
        await sb.stop()
