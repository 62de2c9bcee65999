"""All tables; importing this package registers them on ``Base.metadata``."""

from bot.db.base import Base
from bot.db.models.broadcast import Broadcast, BroadcastRecipient
from bot.db.models.coupon import Coupon
from bot.db.models.member import Member
from bot.db.models.membership import ActivityDaily, Membership
from bot.db.models.order import Order
from bot.db.models.outbox import OutboxMessage
from bot.db.models.referral import Referral, ReferralLink
from bot.db.models.rollup import GLOBAL_CHAT, DailyRollup
from bot.db.models.sop import (
    BriefItem,
    HookHit,
    MemberTag,
    QaRsvp,
    QaSession,
    Question,
    SopPause,
    SopRun,
    SopState,
)
from bot.db.models.update import ProcessedUpdate

__all__ = [
    "GLOBAL_CHAT",
    "ActivityDaily",
    "Base",
    "BriefItem",
    "Coupon",
    "DailyRollup",
    "HookHit",
    "Member",
    "MemberTag",
    "Membership",
    "OutboxMessage",
    "ProcessedUpdate",
    "QaRsvp",
    "QaSession",
    "Question",
    "SopPause",
    "SopRun",
    "SopState",
]
__all__ += ["Order", "Referral", "ReferralLink"]
from bot.db.models.reports import (
    AlertState,
    KpiDay,
    MemberCount,
    MemberDelta,
    ReportRun,
    SourceJoins,
)

__all__ += ["AlertState", "KpiDay", "MemberCount", "MemberDelta", "ReportRun", "SourceJoins"]
__all__ += ["Broadcast", "BroadcastRecipient"]
from bot.db.models.tags import DailyPass, MemberStage, TagEvent  # noqa: E402

__all__ += ["DailyPass", "MemberStage", "TagEvent"]
from bot.db.models.audit import AuditEntry  # noqa: E402
from bot.db.models.files import OutboxFile, OutboxFileChunk  # noqa: E402

__all__ += ["AuditEntry", "OutboxFile", "OutboxFileChunk"]
from bot.db.models.refusal import RefusalNotice  # noqa: E402

__all__ += ["RefusalNotice"]
from bot.db.models.moderation import ModAction, ModAlert  # noqa: E402

__all__ += ["ModAction", "ModAlert"]
