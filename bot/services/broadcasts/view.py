"""What a broadcast looks like to operators: its buttons and the progress figures (bar, ETA)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db.models.broadcast import Broadcast, BroadcastStatus
from bot.db.repositories.broadcasts import Tally
from bot.services.messenger import Messenger

#: callback data of the buttons: ``bc:send:<id>`` and ``bc:cancel:<id>``
SEND_PREFIX = "bc:send:"
CANCEL_PREFIX = "bc:cancel:"
BAR_WIDTH = 10
#: until a broadcast has run this long its ETA assumes Telegram's limit (30 msg/s)
MEASURE_AFTER = 10.0
ASSUMED_RATE = 29.0


def preview_buttons(messenger: Messenger, broadcast: Broadcast) -> dict[str, Any]:
    locale = broadcast.locale
    return {
        "inline_keyboard": [
            [
                {
                    "text": messenger.label("broadcast_send_button", locale, fallback="Send"),
                    "callback_data": f"{SEND_PREFIX}{broadcast.id}",
                },
                {
                    "text": messenger.label("broadcast_cancel_button", locale, fallback="Cancel"),
                    "callback_data": f"{CANCEL_PREFIX}{broadcast.id}",
                },
            ]
        ]
    }


def cancel_button(messenger: Messenger, broadcast: Broadcast) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {
                    "text": messenger.label(
                        "broadcast_cancel_button", broadcast.locale, fallback="Cancel"
                    ),
                    "callback_data": f"{CANCEL_PREFIX}{broadcast.id}",
                },
            ]
        ]
    }


def bar(done: int, total: int) -> str:
    """``▓▓▓▓░░░░░░`` for 40%."""
    filled = BAR_WIDTH if total <= 0 else min(BAR_WIDTH, done * BAR_WIDTH // total)
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def eta_seconds(broadcast: Broadcast, tally: Tally, now: datetime) -> int | None:
    """Seconds until every pending copy is settled, at the rate so far (or at the limit's
    rate early on); ``None`` when nothing is pending."""
    if tally.pending == 0:
        return None
    rate = ASSUMED_RATE
    if broadcast.started_at is not None:
        elapsed = (now - broadcast.started_at).total_seconds()
        done = tally.sent + tally.blocked + tally.failed
        if elapsed >= MEASURE_AFTER and done:
            rate = done / elapsed
    return max(1, round(tally.pending / rate))


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_context(
    broadcast: Broadcast, tally: Tally, now: datetime, held_until: str = ""
) -> dict[str, Any]:
    total = tally.total
    done = tally.settled
    finished = broadcast.finished_at is not None
    if finished:
        state = "cancelled" if broadcast.status == BroadcastStatus.CANCELLED else "done"
    else:
        state = "cancelling" if broadcast.status == BroadcastStatus.CANCELLED else "sending"
    elapsed = None
    if broadcast.started_at is not None:
        elapsed = duration(
            int(((broadcast.finished_at or now) - broadcast.started_at).total_seconds())
        )
    return {
        "id": broadcast.id,
        "segment": broadcast.segment,
        "state": state,
        "ab": broadcast.ab,
        "total": total,
        "sent": tally.sent,
        "pending": tally.pending,
        "blocked": tally.blocked,
        "failed": tally.failed,
        "dropped": tally.dropped,
        "percent": 100 if total == 0 else done * 100 // total,
        "bar": bar(done, total),
        "eta": "" if finished else duration(eta_seconds(broadcast, tally, now)),
        "elapsed": elapsed or "",
        "held_until": held_until,
    }
