"""When a member was last told, in a community, that a team command is the team's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class RefusalNotice(Base):
    """One row per member ever refused in a community: the time of the last notice (at most one
    an hour, whatever the number of restarts and processes)."""

    __tablename__ = "refusal_notices"

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    notified_at: Mapped[datetime]
