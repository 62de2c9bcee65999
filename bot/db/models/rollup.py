"""Per community, per local day counters, maintained as events happen (KPIs read these)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base

#: chat id used for rollups that belong to no community (coupons, DMs)
GLOBAL_CHAT = 0


class DailyRollup(Base):
    __tablename__ = "daily_rollups"

    chat_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    active_members: Mapped[int] = mapped_column(Integer, default=0)
    coupons_issued: Mapped[int] = mapped_column(Integer, default=0)
    dm_sent: Mapped[int] = mapped_column(Integer, default=0)
    dm_blocked: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    auto_answered: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    hooks_triggered: Mapped[int] = mapped_column(Integer, default=0)
    coupons_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    #: the member count Telegram last reported that day (includes people who joined before the
    #: bot, whom the ledger cannot know)
    members_reported: Mapped[int | None] = mapped_column(Integer)
    #: silent or churned members who spoke again that day, counted in the community where
    #: they spoke (issue 4: lifecycle)
    reactivated: Mapped[int] = mapped_column(Integer, default=0)
    #: members of the community in the silent stage, snapshot of the day's lifecycle pass
    #: (None: no pass that day)
    silent_members: Mapped[int | None] = mapped_column(Integer)

    COUNTERS: tuple[str, ...] = (
        "joins",
        "leaves",
        "messages",
        "active_members",
        "coupons_issued",
        "dm_sent",
        "dm_blocked",
        "questions",
        "auto_answered",
        "escalated",
        "hooks_triggered",
    )
    COUNTERS += ("coupons_redeemed",)
    COUNTERS += ("reactivated",)
