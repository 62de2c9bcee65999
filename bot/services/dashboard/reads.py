"""The dashboard pages' read models for one transaction (``Services.dashboard_reads``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.services.dashboard.broadcasts import BroadcastsQuery
from bot.services.dashboard.calendar import CalendarQuery
from bot.services.dashboard.coupons import CouponsQuery
from bot.services.dashboard.member_card import MemberCards
from bot.services.dashboard.members import MemberSearch
from bot.services.dashboard.records import RecordsQuery
from bot.services.dashboard.snapshots import Snapshots
from bot.services.dashboard.sources import SourcesQuery
from bot.services.members.tag_admin import TagAdminService
from sop.engine import SopEngine


@dataclass(frozen=True)
class DashboardReads:
    sources: SourcesQuery
    members: MemberSearch
    cards: MemberCards
    calendar: CalendarQuery
    coupons: CouponsQuery
    broadcasts: BroadcastsQuery
    records: RecordsQuery
    #: the funnel and the campaign conversion, worked out ahead (what the pages show)
    snapshots: Snapshots

    @classmethod
    def create(
        cls,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        content_root: Path,
        tag_admin: TagAdminService,
    ) -> DashboardReads:
        sources = SourcesQuery(session, config)
        coupons = CouponsQuery(session, config)
        return cls(
            sources=sources,
            members=MemberSearch(session, config),
            cards=MemberCards(session, config, tag_admin),
            calendar=CalendarQuery(session, config, engine, content_root),
            coupons=coupons,
            broadcasts=BroadcastsQuery(session),
            records=RecordsQuery(session, config),
            snapshots=Snapshots(session, sources, coupons),
        )
