"""``/kpi`` for operators: the variants, their usage and unknown-word answers, the chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import CommunityConfig
from bot.db.models.outbox import ChatKind, Purpose
from bot.services.console.kpi import ChartSeries, KpiService
from bot.services.console.kpi_args import (
    CHART_DAYS,
    SUBCOMMANDS,
    USAGE,
    KpiArgsError,
    KpiRequest,
    parse_kpi_args,
)
from bot.services.console.kpi_chart import render_chart
from bot.services.dto import Origin, Person
from bot.services.messenger import Messenger
from bot.services.team import TeamService


class KpiConsole:
    def __init__(
        self, team: TeamService, kpi: KpiService, messenger: Messenger, config: CommunityConfig
    ) -> None:
        self._team = team
        self._kpi = kpi
        self._messenger = messenger
        self._config = config

    async def answer(self, origin: Origin, person: Person, args: str | None, now: datetime) -> None:
        try:
            request = parse_kpi_args(args, self._config.communities, self._kpi.local_day(now))
        except KpiArgsError as error:
            if error.kind == "usage":
                await self._team.answer_usage(origin, person, USAGE, now)
            else:
                await self._team.answer_unknown(
                    origin,
                    person,
                    "kpi",
                    error.token,
                    [*SUBCOMMANDS, *(c.title for c in self._config.communities)],
                    now,
                )
            return
        if request.chart:
            last = request.period.last
            series = await self._kpi.series(
                last - timedelta(days=CHART_DAYS - 1), last, request.communities
            )
            await self._send_chart(origin, person, series, request, now)
            return
        report = await self._kpi.report(request.period, now, request.communities)
        await self._team.reply(origin, person, "kpi", {"kpi": report}, now)

    async def _send_chart(
        self,
        origin: Origin,
        person: Person,
        series: ChartSeries,
        request: KpiRequest,
        now: datetime,
    ) -> None:
        """The PNG as a photo where the command was asked, the figures named in its caption."""
        png = render_chart(series)
        chats = request.communities or self._config.communities
        await self._messenger.send_file(
            key=f"reply:{origin.update_id}",
            chat_id=origin.chat_id,
            chat_kind=origin.chat_kind,
            purpose=Purpose.REPLY,
            kind="photo",
            filename=f"kpi-{series.days[-1].isoformat()}.png",
            data=png,
            now=now,
            caption_template="kpi_chart",
            locale=self._messenger.renderer.locale_for(person.language_code),
            context={"series": series, "titles": [c.title for c in chats]},
            reply_to=origin.message_id if origin.chat_kind != ChatKind.PRIVATE else None,
        )
