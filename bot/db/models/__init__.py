"""All tables; importing this package registers them on ``Base.metadata``."""

from bot.db.base import Base
from bot.db.models.audit import AuditEntry
from bot.db.models.broadcast import Broadcast, BroadcastRecipient, BroadcastStatus, RecipientStatus
from bot.db.models.cleanup import Cleanup, CleanupStatus, CleanupTarget, TargetStatus
from bot.db.models.config_version import ConfigVersion
from bot.db.models.coupon import Coupon, IssuedBy, Via
from bot.db.models.desk import DeskRelay, DeskTeamChat, DeskTicket, DeskTopic
from bot.db.models.files import OutboxFile, OutboxFileChunk
from bot.db.models.member import Member
from bot.db.models.membership import ActivityDaily, Membership
from bot.db.models.moderation import Captcha, ModAction, ModAlert
from bot.db.models.order import Order
from bot.db.models.outbox import ChatKind, OutboxMessage, OutboxStatus, Purpose
from bot.db.models.privacy import PrivacyEvent, PrivacyState, Suppression
from bot.db.models.referral import Referral, ReferralLink, ReferralStatus
from bot.db.models.refusal import RefusalNotice
from bot.db.models.reports import (
    AlertState,
    KpiDay,
    MemberCount,
    MemberDelta,
    ReportRun,
    SourceJoins,
)
from bot.db.models.rollup import GLOBAL_CHAT, DailyRollup
from bot.db.models.sop import (
    BriefItem,
    HookHit,
    MemberTag,
    QaRsvp,
    QaSession,
    Question,
    QuestionStatus,
    RunStatus,
    SopPause,
    SopRun,
    SopState,
)
from bot.db.models.tags import DailyPass, MemberStage, TagEvent
from bot.db.models.update import ProcessedUpdate

__all__ = [
    "GLOBAL_CHAT",
    "ActivityDaily",
    "AlertState",
    "AuditEntry",
    "Base",
    "BriefItem",
    "Broadcast",
    "BroadcastRecipient",
    "BroadcastStatus",
    "Captcha",
    "ChatKind",
    "Cleanup",
    "CleanupStatus",
    "CleanupTarget",
    "ConfigVersion",
    "Coupon",
    "DailyPass",
    "DailyRollup",
    "DeskRelay",
    "DeskTeamChat",
    "DeskTicket",
    "DeskTopic",
    "HookHit",
    "IssuedBy",
    "KpiDay",
    "Member",
    "MemberCount",
    "MemberDelta",
    "MemberStage",
    "MemberTag",
    "Membership",
    "ModAction",
    "ModAlert",
    "Order",
    "OutboxFile",
    "OutboxFileChunk",
    "OutboxMessage",
    "OutboxStatus",
    "PrivacyEvent",
    "PrivacyState",
    "ProcessedUpdate",
    "Purpose",
    "QaRsvp",
    "QaSession",
    "Question",
    "QuestionStatus",
    "RecipientStatus",
    "Referral",
    "ReferralLink",
    "ReferralStatus",
    "RefusalNotice",
    "ReportRun",
    "RunStatus",
    "SopPause",
    "SopRun",
    "SopState",
    "SourceJoins",
    "Suppression",
    "TagEvent",
    "TargetStatus",
    "Via",
]
