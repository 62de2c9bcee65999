"""``/export members|kpi [range]``: a CSV document streamed from the database.

Rows are read in batches (``yield_per``: a server-side cursor on PostgreSQL) and written to a
temporary file as they come, the file is queued with :meth:`Messenger.send_file` (copied into
the outbox a megabyte at a time) and deleted: neither the table nor the file is ever held in
memory whole.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import GLOBAL_CHAT, DailyRollup, Member, MemberTag
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.models.tags import MemberStage
from bot.services.console.kpi_args import EARLIEST
from bot.services.desk.figures import desk_figures
from bot.services.dto import Origin, Person
from bot.services.files import FileRejectedError
from bot.services.messenger import Messenger
from bot.services.records.export_csv import CsvSpool
from bot.services.team import TeamService

log = logging.getLogger(__name__)

USAGE = "/export members|kpi [7d|30d|YYYY-MM-DD..YYYY-MM-DD]"
KINDS = ("members", "kpi")
#: rows fetched from the database at a time
BATCH = 2000
#: ``/export kpi`` without a range: the last 30 days
KPI_DEFAULT_DAYS = 30
#: the longest range accepted (ten years of days)
MOST_DAYS = 3660
_DAYS = re.compile(r"^(\d{1,4})d$")
_SPAN = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class DayRange:
    """Local days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def parse_range(text: str, today: date) -> DayRange | None:
    """``7d`` (the last 7 days, today included) or ``YYYY-MM-DD..YYYY-MM-DD``; ``None`` when
    it is neither, inverted, or longer than ten years."""
    days = _DAYS.match(text)
    if days:
        count = int(days.group(1))
        if not 0 < count <= MOST_DAYS:
            return None
        return DayRange(today - timedelta(days=count - 1), today)
    span = _SPAN.match(text)
    if span is None:
        return None
    try:
        first, last = date.fromisoformat(span.group(1)), date.fromisoformat(span.group(2))
    except ValueError:
        return None
    last = min(last, today)  # nothing happened after today (and 9999-12-31 has no next day)
    if first > last or (last - first).days >= MOST_DAYS or first < EARLIEST:
        return None
    return DayRange(first, last)


#: the service desk's columns of /export kpi (on the global row; seconds of office time)
DESK_COLUMNS = (
    "desk_conversations",
    "desk_automatic",
    "desk_answered",
    "desk_within_sla",
    "desk_first_response_median_s",
    "desk_first_response_p90_s",
    "desk_resolution_median_s",
    "desk_rating_avg",
    "desk_ratings",
)


class ExportService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, messenger: Messenger
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger

    async def answer(
        self, team: TeamService, origin: Origin, person: Person, args: str | None, now: datetime
    ) -> None:
        words = (args or "").split()
        if not words or len(words) > 2:
            await team.answer_usage(origin, person, USAGE, now)
            return
        kind = words[0].lower()
        if kind not in KINDS:
            await team.answer_unknown(origin, person, "export", words[0], KINDS, now)
            return
        today = now.astimezone(self._config.tz).date()
        days: DayRange | None = None
        if len(words) == 2:
            days = parse_range(words[1], today)
            if days is None:
                await team.answer_usage(origin, person, USAGE, now)
                return
        elif kind == "kpi":
            days = DayRange(today - timedelta(days=KPI_DEFAULT_DAYS - 1), today)
        spool = await (self.members_csv(days) if kind == "members" else self.kpi_csv(days))
        try:
            await self._send(team, origin, person, kind, days, spool, today, now)
        finally:
            await asyncio.to_thread(spool.discard)

    async def _send(
        self,
        team: TeamService,
        origin: Origin,
        person: Person,
        kind: str,
        days: DayRange | None,
        spool: CsvSpool,
        today: date,
        now: datetime,
    ) -> None:
        name = f"{kind}-{days.label if days else today.isoformat()}.csv"
        locale = self._messenger.renderer.locale_for(person.language_code)
        context = {
            "kind": kind,
            "rows": spool.rows,
            "range": days.label if days else None,
            "timezone": self._config.timezone,
        }
        try:
            await self._messenger.send_file(
                key=f"reply:{origin.update_id}",
                chat_id=origin.chat_id,
                chat_kind=origin.chat_kind,
                purpose=Purpose.EXPORT,
                kind="document",
                filename=name,
                path=spool.path,
                caption_template="export_caption",
                locale=locale,
                context=context,
                now=now,
                reply_to=origin.message_id if origin.chat_kind != ChatKind.PRIVATE else None,
            )
        except FileRejectedError as error:
            log.info("export %s not sent: %s", name, error.reason)
            await team.reply(
                origin,
                person,
                "export_too_big",
                {
                    **context,
                    "megabytes": round(error.size / 1024 / 1024, 1),
                    "limit": format(round(error.limit / 1024 / 1024, 1), "g"),
                },
                now,
            )
            return
        team.outcome = team.outcome or "ok"

    # -- members ------------------------------------------------------------------------------
    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self._config.tz)

    def _local(self, at: datetime | None) -> str | None:
        return at.astimezone(self._config.tz).strftime("%Y-%m-%d %H:%M") if at else None

    def _members_query(self, days: DayRange | None) -> Select[Any]:
        if self._session.get_bind().dialect.name == "postgresql":
            joined = func.string_agg(MemberTag.tag, literal_column("';'"))
        else:
            joined = func.group_concat(MemberTag.tag, ";")
        tags = (
            select(MemberTag.user_id, joined.label("tags")).group_by(MemberTag.user_id).subquery()
        )
        stmt = (
            select(
                Member.user_id,
                Member.first_name,
                Member.username,
                Member.language_code,
                Member.source,
                Member.source_kind,
                Member.first_seen_at,
                Member.started_at,
                Member.last_seen_at,
                Member.dm_allowed,
                Member.unreachable_at,
                MemberStage.stage,
                tags.c.tags,
            )
            .outerjoin(MemberStage, MemberStage.user_id == Member.user_id)
            .outerjoin(tags, tags.c.user_id == Member.user_id)
            .order_by(Member.user_id)
        )
        if days is not None:
            stmt = stmt.where(
                Member.first_seen_at >= self._utc(days.first),
                Member.first_seen_at < self._utc(days.last + timedelta(days=1)),
            )
        return stmt  # type: ignore[return-value]

    async def members_csv(self, days: DayRange | None) -> CsvSpool:
        """One row per member (first seen within ``days`` when given), by user id."""
        zone = self._config.timezone
        spool = CsvSpool(
            [
                "user_id",
                "first_name",
                "username",
                "language",
                "source",
                "source_kind",
                f"first_seen ({zone})",
                f"started ({zone})",
                f"last_seen ({zone})",
                "dm_allowed",
                f"blocked_since ({zone})",
                "reachable",
                "stage",
                "tags",
            ]
        )
        try:
            result = await self._session.stream(
                self._members_query(days).execution_options(yield_per=BATCH)
            )
            async for batch in result.partitions():
                rows = [
                    (
                        r.user_id,
                        r.first_name,
                        r.username,
                        r.language_code,
                        r.source,
                        r.source_kind,
                        self._local(r.first_seen_at),
                        self._local(r.started_at),
                        self._local(r.last_seen_at),
                        bool(r.dm_allowed),
                        self._local(r.unreachable_at),
                        bool(r.dm_allowed) and r.unreachable_at is None,
                        r.stage,
                        ";".join(sorted(r.tags.split(";"))) if r.tags else None,
                    )
                    for r in batch
                ]
                await asyncio.to_thread(spool.write, rows)
        except BaseException:
            spool.discard()
            raise
        spool.close()
        return spool

    # -- kpi ----------------------------------------------------------------------------------
    async def kpi_csv(self, days: DayRange | None) -> CsvSpool:
        """One row per community (and the global row: coupons, DMs) per local day of ``days``,
        zeros for days without activity; every rollup counter a column."""
        assert days is not None
        columns = [c for c in DailyRollup.__table__.columns if c.name not in ("chat_id", "day")]
        counters = [c.name for c in columns]
        #: a snapshot column (members_reported…) stays empty on a day without one
        snapshots = {c.name for c in columns if c.nullable}
        titles = {c.chat_id: c.title for c in self._config.communities}
        titles[GLOBAL_CHAT] = "(global)"
        spool = CsvSpool(["day", "chat_id", "community", *counters, *DESK_COLUMNS])
        try:
            result = await self._session.stream(
                select(DailyRollup)
                .where(
                    DailyRollup.chat_id.in_(list(titles)),
                    DailyRollup.day >= days.first,
                    DailyRollup.day <= days.last,
                )
                .order_by(DailyRollup.day, DailyRollup.chat_id)
                .execution_options(yield_per=BATCH)
            )
            found: dict[tuple[date, int], DailyRollup] = {}
            async for batch in result.scalars().partitions():
                found.update(((row.day, row.chat_id), row) for row in batch)
            day = days.first
            tz = self._config.tz
            while day <= days.last:  # communities x days: small, complete with zeros
                rows = []
                start = datetime.combine(day, time(), tzinfo=tz)
                desk = await desk_figures(self._session, start, start + timedelta(days=1))
                # the service desk's figures go on the (global) row: conversations are no
                # community's
                desk_cells = [
                    desk.conversations,
                    desk.automatic,
                    desk.answered,
                    desk.within_sla,
                    desk.response_median,
                    desk.response_p90,
                    desk.resolution_median,
                    None if desk.rating_avg is None else round(desk.rating_avg, 2),
                    desk.ratings,
                ]
                for chat_id, title in titles.items():
                    row = found.pop((day, chat_id), None)
                    rows.append(
                        [
                            day.isoformat(),
                            chat_id,
                            title,
                            *[
                                getattr(row, c)
                                if row is not None
                                else (None if c in snapshots else 0)
                                for c in counters
                            ],
                            *(desk_cells if chat_id == GLOBAL_CHAT else [None] * len(desk_cells)),
                        ]
                    )
                spool.write(rows)
                day += timedelta(days=1)
        except BaseException:
            spool.discard()
            raise
        spool.close()
        return spool
