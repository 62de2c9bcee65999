"""What ``/kpi`` was asked for: ``[today|yesterday|7d|YYYY-MM-DD|chart] [community]``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.config.community import CommunityChat
from bot.errors import SopbotError
from bot.services.console.kpi import KpiPeriod

USAGE = "/kpi [today|yesterday|7d|YYYY-MM-DD|chart] [community]"
SUBCOMMANDS = ("today", "yesterday", "7d", "YYYY-MM-DD", "chart")
#: days the chart shows
CHART_DAYS = 14
#: no day before this is asked about (and year 1 has no week before it to compare with)
EARLIEST = date(1970, 1, 1)

_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


class KpiArgsError(SopbotError):
    """``usage``: the arguments cannot be read; ``unknown``: one word that is neither a
    subcommand nor a community (the answer lists both)."""

    def __init__(self, kind: str, token: str = "") -> None:
        self.kind = kind
        self.token = token
        super().__init__(f"{kind}: {token!r}")

    def __repr__(self) -> str:
        return f"KpiArgsError({self.kind!r}, {self.token!r})"


@dataclass(frozen=True)
class KpiRequest:
    period: KpiPeriod
    chart: bool
    #: ``None`` for every community
    communities: list[CommunityChat] | None


def parse_kpi_args(
    args: str | None, communities: Sequence[CommunityChat], today: date
) -> KpiRequest:
    words = (args or "").split()
    if not words:
        return KpiRequest(KpiPeriod("today", today, today), False, None)
    head, rest = words[0].lower(), " ".join(words[1:])
    if head in ("today", "yesterday", "7d", "chart") or _DATE.match(head):
        period, chart = _period(head, today), head == "chart"
        if not rest:
            return KpiRequest(period, chart, None)
        chosen = _community(rest, communities)
        if chosen is None:
            raise KpiArgsError("unknown" if len(words) == 2 else "usage", rest)
        return KpiRequest(period, chart, [chosen])
    chosen = _community(" ".join(words), communities)
    if chosen is not None:
        return KpiRequest(KpiPeriod("today", today, today), False, [chosen])
    raise KpiArgsError("unknown" if len(words) == 1 else "usage", words[0])


def _period(head: str, today: date) -> KpiPeriod:
    if head in ("today", "chart"):
        return KpiPeriod("today", today, today)
    if head == "yesterday":
        day = today - timedelta(days=1)
        return KpiPeriod("yesterday", day, day)
    if head == "7d":
        return KpiPeriod("7d", today - timedelta(days=6), today)
    try:
        day = date.fromisoformat("-".join(part.zfill(2) for part in head.split("-")))
    except ValueError:
        raise KpiArgsError("usage", head) from None
    if day > today or day < EARLIEST:  # 0001-01-01 minus a week does not exist
        raise KpiArgsError("usage", head)
    kind = "today" if day == today else "yesterday" if day == today - timedelta(days=1) else "day"
    return KpiPeriod(kind, day, day)


def _community(text: str, communities: Sequence[CommunityChat]) -> CommunityChat | None:
    """By chat id, or by title (case and spacing aside)."""
    wanted = " ".join(text.split()).casefold()
    for chat in communities:
        if wanted == str(chat.chat_id) or wanted == " ".join(chat.title.split()).casefold():
            return chat
    return None
