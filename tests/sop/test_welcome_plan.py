"""Greeting batches on a virtual clock: shared windows, full messages at once, nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sop.welcome import Joiner, plan_greetings

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
BATCH = timedelta(minutes=2)


def test_joiners_wait_for_the_window_then_share_one_greeting() -> None:
    waiting = [Joiner(i, T0 + timedelta(seconds=10 * i)) for i in range(5)]
    early = plan_greetings(waiting, T0 + timedelta(minutes=1), batch_window=BATCH, max_mentions=50)
    assert early.batches == () and early.next_check == T0 + BATCH
    due = plan_greetings(waiting, T0 + BATCH, batch_window=BATCH, max_mentions=50)
    assert due.batches == ((0, 1, 2, 3, 4),) and due.next_check is None


def test_a_full_greeting_goes_without_waiting() -> None:
    waiting = [Joiner(i, T0) for i in range(120)]
    plan = plan_greetings(waiting, T0, batch_window=BATCH, max_mentions=50)
    assert [len(b) for b in plan.batches] == [50, 50]
    assert plan.next_check == T0 + BATCH


@given(
    st.lists(st.integers(min_value=0, max_value=3600), max_size=300),
    st.integers(min_value=1, max_value=100),
)
def test_simulated_hour_greets_everyone_once_within_window_plus_step(
    offsets: list[int], max_mentions: int
) -> None:
    """Ticking every 10 s through an hour of joins: each joiner is in exactly one greeting, at
    most ``batch_window`` + one tick after joining, and no greeting is over-full."""
    joiners = [Joiner(i, T0 + timedelta(seconds=s)) for i, s in enumerate(offsets)]
    greeted: dict[int, datetime] = {}
    now = T0
    while now <= T0 + timedelta(hours=1, minutes=5):
        waiting = [j for j in joiners if j.joined_at <= now and j.stint_id not in greeted]
        for batch in plan_greetings(
            waiting, now, batch_window=BATCH, max_mentions=max_mentions
        ).batches:
            assert 0 < len(batch) <= max_mentions
            for stint in batch:
                assert stint not in greeted
                greeted[stint] = now
        now += timedelta(seconds=10)
    assert set(greeted) == {j.stint_id for j in joiners}
    for joiner in joiners:
        assert greeted[joiner.stint_id] - joiner.joined_at <= BATCH + timedelta(seconds=10)
