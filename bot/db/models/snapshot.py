"""A dashboard figure worked out ahead (the sources funnel, campaign conversion over all of
the members): what it was, when, and when an operator last looked at it (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class DashboardSnapshot(Base):
    __tablename__ = "dashboard_snapshots"

    #: what it is: ``sources:30``, ``coupons:90``…
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]
    #: the loop keeps only what operators look at up to date
    read_at: Mapped[datetime]
