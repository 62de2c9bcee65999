"""The outbound limiter, on explicit times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.limiter import Limits, RateLimiter

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def test_private_chats_get_one_message_a_second() -> None:
    limiter = RateLimiter()
    assert limiter.next_allowed(1, "private", T0) == T0
    limiter.record(1, "private", T0)
    assert limiter.next_allowed(1, "private", T0) == T0 + Limits().private_interval
    assert limiter.next_allowed(2, "private", T0) == T0


def test_groups_get_twenty_in_any_window() -> None:
    limiter = RateLimiter()
    for i in range(20):
        at = T0 + timedelta(seconds=i)
        assert limiter.next_allowed(-5, "group", at) == at
        limiter.record(-5, "group", at)
    later = T0 + timedelta(seconds=20)
    assert limiter.next_allowed(-5, "group", later) == T0 + Limits().group_window


def test_global_limit_spans_chats() -> None:
    limiter = RateLimiter()
    for chat in range(29):
        limiter.record(chat, "private", T0)
    assert limiter.next_allowed(999, "private", T0) == T0 + timedelta(seconds=1)
    assert limiter.next_allowed(999, "api", T0) == T0 + timedelta(seconds=1)


def test_penalty_holds_the_chat_exactly_until_retry_after() -> None:
    limiter = RateLimiter()
    limiter.penalize(7, T0 + timedelta(seconds=9))
    assert limiter.next_allowed(7, "private", T0) == T0 + timedelta(seconds=9)
    assert limiter.next_allowed(8, "private", T0) == T0


def test_calls_in_flight_count_against_the_global_window() -> None:
    limiter = RateLimiter()
    for chat in range(29):
        limiter.dispatch(chat, "private")
    assert limiter.next_allowed(999, "private", T0) > T0  # nothing answered yet, still full
    for chat in range(29):
        limiter.complete(chat, "private", T0 + timedelta(milliseconds=300))
    # stamped with the answers' time: free again one second after them, not after dispatch
    assert limiter.next_allowed(999, "private", T0 + timedelta(seconds=1)) == T0 + timedelta(
        milliseconds=1300
    )


def test_a_private_chat_waits_for_its_call_in_flight() -> None:
    limiter = RateLimiter()
    limiter.dispatch(1, "private")
    assert limiter.next_allowed(1, "private", T0) > T0
    limiter.complete(1, "private", T0 + timedelta(seconds=2))
    assert (
        limiter.next_allowed(1, "private", T0 + timedelta(seconds=2))
        == T0 + timedelta(seconds=2) + Limits().private_interval
    )


def test_idle_chats_and_spent_penalties_are_forgotten() -> None:
    limiter = RateLimiter()
    for chat in range(100):
        limiter.record(chat, "private", T0)
    limiter.record(-5, "group", T0)
    limiter.penalize(7, T0 + timedelta(seconds=5))
    limiter.forget_idle(T0 + timedelta(minutes=5))
    assert (limiter._private_last, limiter._groups, limiter._penalty) == ({}, {}, {})
