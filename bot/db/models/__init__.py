"""All tables; importing this package registers them on ``Base.metadata``."""

from bot.db.base import Base
from bot.db.models.coupon import Coupon
from bot.db.models.member import Member
from bot.db.models.membership import ActivityDaily, Membership
from bot.db.models.outbox import OutboxMessage
from bot.db.models.rollup import GLOBAL_CHAT, DailyRollup
from bot.db.models.sop import (BriefItem, HookHit, MemberTag, QaRsvp, QaSession, Question, SopPause,
                               SopRun, SopState)
from bot.db.models.update import ProcessedUpdate

__all__ = ["GLOBAL_CHAT", "ActivityDaily", "Base", "BriefItem", "Coupon", "DailyRollup", "HookHit",
           "Member", "MemberTag", "Membership", "OutboxMessage", "ProcessedUpdate", "QaRsvp",
           "QaSession", "Question", "SopPause", "SopRun", "SopState"]
