"""Use cases. One ``Services`` per update (or job), all sharing its session and transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.rendering import Renderer
from bot.services.broadcasts.service import BroadcastService
from bot.services.commerce.coupon_admin import CouponAdminService
from bot.services.commerce.coupons import CouponService
from bot.services.commerce.member_coupons import MemberCouponsService
from bot.services.commerce.referrals import ReferralService
from bot.services.console.alerts import AlertService
from bot.services.console.kpi import KpiService
from bot.services.console.kpi_console import KpiConsole
from bot.services.console.reports import ReportService
from bot.services.dashboard import DashboardService
from bot.services.dashboard.reads import DashboardReads
from bot.services.desk import DeskService
from bot.services.desk.menus import DeskMenus
from bot.services.desk.team import DeskTeam
from bot.services.desk.upkeep import DeskJobs
from bot.services.members.community import CommunityService
from bot.services.members.ledger import LedgerService
from bot.services.members.lifecycle import LifecycleService
from bot.services.members.segments import SegmentService
from bot.services.members.tag_admin import TagAdminService
from bot.services.messenger import Messenger
from bot.services.moderation import (
    CommunityOrder,
    ComplaintService,
    ModerationService,
    compile_order,
)
from bot.services.moderation.captcha import CaptchaService
from bot.services.moderation.cleanup import CleanupService
from bot.services.moderation.community_rules import RulesService
from bot.services.moderation.console import ModerationConsole
from bot.services.moderation.counters import FloodCounters
from bot.services.moderation.service import BotRightsService
from bot.services.privacy.service import PrivacyService
from bot.services.records.audit import AuditService
from bot.services.records.exports import ExportService
from bot.services.records.member_view import MemberViewService
from bot.services.sop.admin import SopAdminService
from bot.services.sop.hooks import HookService
from bot.services.sop.questions import QuestionService
from bot.services.sop.schedules import ScheduleService
from bot.services.team import TeamService
from bot.services.welcome.service import BotIdentity, WelcomeService
from sop.engine import SopEngine


@dataclass(frozen=True)
class Services:
    config: CommunityConfig
    engine: SopEngine
    messenger: Messenger
    ledger: LedgerService
    coupons: CouponService
    welcome: WelcomeService
    kpi: KpiService
    team: TeamService
    hooks: HookService
    questions: QuestionService
    community: CommunityService
    schedules: ScheduleService
    sop_admin: SopAdminService
    segments: SegmentService
    coupon_admin: CouponAdminService
    #: ``/mycoupons``: a member's own codes
    member_coupons: MemberCouponsService
    referrals: ReferralService
    lifecycle: LifecycleService
    tag_admin: TagAdminService

    broadcasts: BroadcastService
    reports: ReportService
    alerts: AlertService
    audit: AuditService
    member_view: MemberViewService
    exports: ExportService
    #: the member service desk (bot/services/desk/)
    desk: DeskService
    moderation: ModerationService
    complaints: ComplaintService
    moderation_console: ModerationConsole
    rules: RulesService
    bot_rights: BotRightsService
    #: join protection: the entry of every join request and join (bot/services/moderation/)
    captcha: CaptchaService
    #: /cleanup: silent members (or a segment's) removed after a preview
    cleanup: CleanupService
    #: notice, consent, a member's rights, erasure (bot/services/privacy/)
    privacy: PrivacyService
    #: /dashboard: the Mini App button and the one-time login link (bot/dashboard/)
    dashboard: DashboardService
    #: what the dashboard's pages read (bot/services/dashboard/)
    dashboard_reads: DashboardReads

    @classmethod
    def create(
        cls,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        renderer: Renderer,
        identity: BotIdentity,
        content_root: Path,
        *,
        order: CommunityOrder | None = None,
        counters: FloodCounters | None = None,
    ) -> Services:
        messenger = Messenger(session, renderer, config, identity.privacy_key)
        order = order if order is not None else compile_order(config)
        ledger = LedgerService(session, config.tz, identity.privacy_key)
        coupons = CouponService(session, config)
        welcome = WelcomeService(session, config, messenger, ledger, coupons, identity)
        kpi = KpiService(session, config)
        hooks = HookService(session, config, engine, messenger, coupons, identity)
        questions = QuestionService(session, config, engine, messenger)
        lifecycle = LifecycleService(session, config, engine, messenger, coupons)
        segments = SegmentService(session, config)
        team = TeamService(session, messenger)
        moderation = ModerationService(session, config, order, messenger, counters)
        tag_admin = TagAdminService(session, config, segments)
        return cls(
            config=config,
            engine=engine,
            messenger=messenger,
            ledger=ledger,
            coupons=coupons,
            welcome=welcome,
            kpi=kpi,
            team=team,
            hooks=hooks,
            questions=questions,
            coupon_admin=CouponAdminService(session, config, messenger, coupons),
            member_coupons=MemberCouponsService(session, config, messenger, identity),
            referrals=ReferralService(session, config, messenger, coupons, engine),
            community=CommunityService(session, ledger, hooks, questions, lifecycle),
            schedules=ScheduleService(session, config, engine, messenger, content_root),
            sop_admin=SopAdminService(session, config, engine, messenger),
            segments=segments,
            lifecycle=lifecycle,
            tag_admin=tag_admin,
            reports=ReportService(session, config, messenger, kpi),
            alerts=AlertService(session, config, messenger),
            audit=AuditService(session, config),
            member_view=MemberViewService(session, config, identity.privacy_key),
            exports=ExportService(session, config, messenger),
            broadcasts=BroadcastService(
                session, config, messenger, SegmentService(session, config), engine
            ),
            desk=DeskService(session, config, engine, messenger, ledger, hooks),
            moderation=moderation,
            complaints=ComplaintService(session, config, order, messenger),
            moderation_console=ModerationConsole(session, config, team, moderation),
            rules=RulesService(session, config, messenger),
            bot_rights=BotRightsService(config, messenger),
            captcha=CaptchaService(session, config, messenger, ledger, welcome),
            cleanup=CleanupService(session, config, engine, messenger, team, segments),
            privacy=PrivacyService(session, config, messenger, identity.privacy_key),
            dashboard=DashboardService(session, team, messenger),
            dashboard_reads=DashboardReads.create(session, config, engine, content_root, tag_admin),
        )

    @property
    def desk_team(self) -> DeskTeam:
        """The desk as operators use it (answers through ``team``)."""
        return DeskTeam(
            self.desk.session, self.config, self.engine, self.messenger, self.desk, self.team
        )

    @property
    def desk_menus(self) -> DeskMenus:
        """The command menus the bot should have (``setMyCommands`` per scope)."""
        return DeskMenus(self.desk.session, self.config, self.messenger.renderer)

    @property
    def desk_jobs(self) -> DeskJobs:
        return DeskJobs(self.desk.session, self.config, self.messenger, self.desk)

    @property
    def kpi_console(self) -> KpiConsole:
        """``/kpi`` and its variants (answers through ``team``)."""
        return KpiConsole(self.team, self.kpi, self.messenger, self.config)


__all__ = ["BotIdentity", "Services"]
