"""Where floods and spam waves are counted: :class:`FloodCounters`, an interface with one
in-process implementation (:class:`MemoryFloodCounters`, the windows of :mod:`sop.flood`).

Counting costs no database write: a per-message write for every group message would be the
most expensive thing the bot does. The windows live as long as the process (a reload keeps
them; a restart starts them empty, which at worst lets one burst through). Several processes
behind one webhook each see part of a chat's messages, so each counts a part: a Redis version
of this interface (a sorted set per window, ``ZADD``/``ZREMRANGEBYSCORE``/``ZRANGE`` in one
``MULTI`` or a small script, keys expiring after the window) makes the counts shared; the
service only sees :meth:`FloodCounters.note`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.config.moderation import ModerationConfig
from sop.flood import Burst, RateWindows, WaveWindows, wave_key

#: how often (seconds of message time) the windows forget senders and texts gone quiet
SWEEP_EVERY = 60.0


@dataclass(frozen=True)
class Noted:
    """A community message as the counters see it (no text: only its digest)."""

    chat_id: int
    sender: int
    message_id: int
    #: a sticker or a GIF (``animation``)
    sticker: bool
    #: :func:`sop.flood.wave_key` of its text, or ``None``
    text_key: str | None
    at: datetime


class FloodCounters(Protocol):
    """Counts a message in every window its config asks for; what it completes comes back."""

    async def note(self, message: Noted, moderation: ModerationConfig) -> list[Burst]: ...


def noted(
    chat_id: int,
    sender: int,
    message_id: int,
    text: str,
    *,
    sticker: bool,
    moderation: ModerationConfig,
    at: datetime,
) -> Noted:
    min_length = moderation.wave.min_length if moderation.wave is not None else 0
    key = wave_key(text, min_length) if moderation.wave is not None else None
    return Noted(chat_id, sender, message_id, sticker, key, at)


class MemoryFloodCounters:
    """The windows in this process's memory (one instance per process, app-scoped)."""

    def __init__(self) -> None:
        self._flood = RateWindows("flood")
        self._stickers = RateWindows("stickers")
        self._waves = WaveWindows()
        self._swept_at = 0.0
        self._longest = 0.0

    def __len__(self) -> int:
        return len(self._flood) + len(self._stickers) + len(self._waves)

    async def note(self, message: Noted, moderation: ModerationConfig) -> list[Burst]:
        now = message.at.timestamp()
        bursts: list[Burst] = []
        sticker_rule = moderation.stickers if message.sticker else None
        rate = sticker_rule or moderation.flood
        windows = self._stickers if sticker_rule is not None else self._flood
        if rate is not None:
            self._longest = max(self._longest, float(rate.seconds))
            burst = windows.note(
                message.chat_id,
                message.sender,
                message.message_id,
                now,
                rate.messages,
                rate.seconds,
            )
            if burst is not None:
                bursts.append(burst)
        wave = moderation.wave
        if wave is not None and message.text_key is not None:
            within = wave.within.total_seconds()
            self._longest = max(self._longest, within)
            burst = self._waves.note(
                message.chat_id,
                message.text_key,
                message.sender,
                message.message_id,
                now,
                wave.accounts,
                within,
            )
            if burst is not None:
                bursts.append(burst)
        if now - self._swept_at >= SWEEP_EVERY:
            for each in (self._flood, self._stickers, self._waves):
                each.sweep(now, self._longest)
            self._swept_at = now
        return bursts
