"""Data access, one repository per aggregate. They flush, never commit."""

from bot.db.repositories.activity import ActivityRepository, RollupRepository
from bot.db.repositories.coupons import CouponRepository
from bot.db.repositories.engagement import HookRepository, QuestionRepository, TagRepository
from bot.db.repositories.members import MemberRepository, MembershipRepository
from bot.db.repositories.outbox import OutboxRepository
from bot.db.repositories.sop import SopRepository
from bot.db.repositories.updates import UpdateRepository

__all__ = [
    "ActivityRepository",
    "CouponRepository",
    "HookRepository",
    "MemberRepository",
    "MembershipRepository",
    "OutboxRepository",
    "QuestionRepository",
    "RollupRepository",
    "SopRepository",
    "TagRepository",
    "UpdateRepository",
]
