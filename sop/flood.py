"""Floods and spam waves, the pure half: sliding windows of recent messages, kept in memory.

:class:`RateWindows` counts one sender's messages in a chat (``messages`` within ``seconds``):
the message that fills the window starts a *burst* — every message in the window is to be
deleted and the rule's steps apply once; while the sender stays at that rate each further
message is deleted too (no new step); once the rate drops the burst is over, and the next one
is a new offence.

:class:`WaveWindows` keeps, per chat and per text (a short digest of the text normalised by
:func:`wave_key`, never the text), who sent it and when: the copy that brings ``accounts``
different accounts within ``within`` starts a wave — every copy in the window, the first ones
included, is to be deleted and each account's steps apply once; later copies are deleted as
they come until none has come for ``within``.

Both take the time as seconds (``now`` is passed in, nothing reads a clock) and forget what no
window can hold any more (:meth:`sweep`, run by the caller every so often). A message id seen
twice (Telegram redelivered the update) is counted once.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field

from sop.disguise import fold
from sop.keywords import normalize

__all__ = ["Burst", "RateWindows", "WaveWindows", "wave_key"]

#: what a wave's text keeps: letters and digits of any script (punctuation, spaces and emoji go)
_NOT_WORD = re.compile(r"[\W_]+")


def wave_key(text: str, min_length: int) -> str | None:
    """A digest of ``text`` normalised (NFKC, case, disguises, spacing and punctuation undone),
    or ``None`` when too little is left to be a wave (好的, +1, an emoji)."""
    if not text:
        return None
    plain = _NOT_WORD.sub("", fold(normalize(text)))
    if len(plain) < min_length:
        return None
    return hashlib.blake2b(plain.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Burst:
    """A flood or a wave recognised: what to delete now and whom the rule's steps apply to."""

    #: ``flood``, ``stickers`` or ``wave``
    rule: str
    #: names the burst for as long as it lasts (report mode tells the team once per burst)
    key: str
    #: ``(sender, message id)`` to delete now: the whole window when the burst starts
    messages: tuple[tuple[int, int], ...]
    #: senders whose steps (warning, mute, ban) apply now: once each per burst
    offenders: tuple[int, ...]
    #: this message started it
    started: bool


@dataclass
class _Rate:
    seen: deque[tuple[float, int]] = field(default_factory=deque)
    burst_key: str | None = None


@dataclass
class _Wave:
    seen: deque[tuple[float, int, int]] = field(default_factory=deque)
    #: the message ids in ``seen`` (a wave may hold thousands: no scan per copy)
    ids: set[int] = field(default_factory=set)
    burst_key: str | None = None
    acted: set[int] = field(default_factory=set)


class RateWindows:
    """One window per ``(chat, sender)``: the times and ids of their last messages."""

    def __init__(self, rule: str) -> None:
        self._rule = rule
        self._windows: dict[tuple[int, int], _Rate] = {}

    def __len__(self) -> int:
        return len(self._windows)

    def note(
        self, chat_id: int, sender: int, message_id: int, now: float, messages: int, seconds: int
    ) -> Burst | None:
        window = self._windows.setdefault((chat_id, sender), _Rate())
        seen = window.seen
        while seen and seen[0][0] <= now - seconds:
            seen.popleft()
        if any(mid == message_id for _, mid in seen):
            return None
        seen.append((now, message_id))
        if len(seen) < messages:
            window.burst_key = None  # the rate dropped: the next burst is a new offence
            return None
        if window.burst_key is not None:
            return Burst(self._rule, window.burst_key, ((sender, message_id),), (), False)
        window.burst_key = f"{self._rule}:{chat_id}:{sender}:{int(seen[0][0])}"
        every = tuple((sender, mid) for _, mid in seen)
        return Burst(self._rule, window.burst_key, every, (sender,), True)

    def sweep(self, now: float, longest: float) -> None:
        """Forgets the windows whose last message is older than ``longest`` seconds."""
        stale = [
            k for k, w in self._windows.items() if not w.seen or w.seen[-1][0] <= now - longest
        ]
        for key in stale:
            del self._windows[key]


class WaveWindows:
    """One window per ``(chat, text digest)``: who sent that text, when, as which message."""

    def __init__(self) -> None:
        self._windows: dict[tuple[int, str], _Wave] = {}

    def __len__(self) -> int:
        return len(self._windows)

    def note(
        self,
        chat_id: int,
        text_key: str,
        sender: int,
        message_id: int,
        now: float,
        accounts: int,
        within: float,
    ) -> Burst | None:
        window = self._windows.setdefault((chat_id, text_key), _Wave())
        seen = window.seen
        while seen and seen[0][0] <= now - within:
            window.ids.discard(seen.popleft()[2])
        if not seen:
            window.burst_key = None  # nothing for ``within``: the wave is over
            window.acted.clear()
        if message_id in window.ids:
            return None
        seen.append((now, sender, message_id))
        window.ids.add(message_id)
        if window.burst_key is not None:
            offenders = () if sender in window.acted else (sender,)
            window.acted.add(sender)
            return Burst("wave", window.burst_key, ((sender, message_id),), offenders, False)
        senders = list(dict.fromkeys(s for _, s, _ in seen))
        if len(senders) < accounts:
            return None
        window.burst_key = f"wave:{chat_id}:{text_key}:{int(seen[0][0])}"
        window.acted.update(senders)
        every = tuple((s, mid) for _, s, mid in seen)
        return Burst("wave", window.burst_key, every, tuple(senders), True)

    def sweep(self, now: float, longest: float) -> None:
        stale = [
            k for k, w in self._windows.items() if not w.seen or w.seen[-1][0] <= now - longest
        ]
        for key in stale:
            del self._windows[key]
