"""When to greet newcomers in a group: batches that respect the group limit and the SLA.

Pure: the pending joiners and ``now`` in, the greetings to send and the next time to look out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Joiner:
    stint_id: int
    joined_at: datetime


@dataclass(frozen=True)
class GreetingPlan:
    #: each inner tuple is one greeting message (its stint ids, oldest first)
    batches: tuple[tuple[int, ...], ...]
    #: when to look again for the joiners left waiting (None: nobody waiting)
    next_check: datetime | None


def plan_greetings(
    waiting: Sequence[Joiner], now: datetime, *, batch_window: timedelta, max_mentions: int
) -> GreetingPlan:
    """Joiners inside one ``batch_window`` share a greeting; a full greeting goes at once.

    A greeting is due when its oldest joiner has waited ``batch_window``; then everyone waiting
    goes, ``max_mentions`` to a message. Full messages go without waiting, so 1,000 joins in ten
    minutes make ~20 messages, not 1,000.
    """
    if max_mentions < 1:
        raise ValueError("max_mentions must be at least 1")
    ordered = sorted(waiting, key=lambda j: (j.joined_at, j.stint_id))
    if not ordered:
        return GreetingPlan((), None)
    if ordered[0].joined_at + batch_window <= now:
        chunks = [ordered[i : i + max_mentions] for i in range(0, len(ordered), max_mentions)]
        return GreetingPlan(tuple(tuple(j.stint_id for j in c) for c in chunks), None)
    full = len(ordered) // max_mentions
    batches = tuple(
        tuple(j.stint_id for j in ordered[i * max_mentions : (i + 1) * max_mentions])
        for i in range(full)
    )
    rest = ordered[full * max_mentions :]
    next_check = rest[0].joined_at + batch_window if rest else None
    return GreetingPlan(batches, next_check)
