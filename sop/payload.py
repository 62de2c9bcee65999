"""Deep-link payloads (``/start <payload>``): what a member's first click says about them.

Telegram allows ``A-Z a-z 0-9 _ -`` and up to 64 characters in a deep link, but anyone can type
``/start`` followed by anything. Whatever arrives is reduced to something safe to store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MAX_SOURCE = 64
_ALLOWED = re.compile(r"[^A-Za-z0-9_\-]")


class PayloadKind(Enum):
    NONE = "none"  # plain /start
    GIFT = "gift"  # the "claim your gift" button
    HOOK = "hook"  # "get it in private" under a keyword hook's answer: hook-<id>
    SOURCE = "source"  # a campaign/channel tag, e.g. src_douyin
    INVALID = "invalid"  # something no deep link could carry


@dataclass(frozen=True)
class StartPayload:
    kind: PayloadKind
    #: the source to record (already safe: allowed characters only, at most 64 long)
    source: str | None = None
    #: the hook whose material was asked for (HOOK only)
    hook: str | None = None


GIFT_PAYLOAD = "gift"
INVALID_PREFIX = "invalid:"
HOOK_PREFIX = "hook-"


def parse_start_payload(raw: str | None) -> StartPayload:
    """Classifies what followed ``/start``; never raises."""
    if raw is None:
        return StartPayload(PayloadKind.NONE)
    text = raw.strip()
    if not text:
        return StartPayload(PayloadKind.NONE)
    if text == GIFT_PAYLOAD:
        return StartPayload(PayloadKind.GIFT)
    if len(text) <= MAX_SOURCE and not _ALLOWED.search(text):
        if text.startswith(HOOK_PREFIX) and len(text) > len(HOOK_PREFIX):
            return StartPayload(PayloadKind.HOOK, hook=text[len(HOOK_PREFIX) :])
        return StartPayload(PayloadKind.SOURCE, text)
    # typed by hand or crafted: keep a sanitised, bounded trace of it, marked as such
    cleaned = _ALLOWED.sub("", text)[: MAX_SOURCE - len(INVALID_PREFIX)]
    # the colon cannot occur in a real deep link: "invalid:" never collides with a payload
    return StartPayload(PayloadKind.INVALID, f"{INVALID_PREFIX}{cleaned}")
