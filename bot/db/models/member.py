"""A person the bot knows: where they came from and whether it may message them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        #: the dashboard: newest first, the sources funnel of a period (issue 16)
        Index("ix_members_first_seen", "first_seen_at", "source", "started_at", "gift_sent_at"),
        #: one source's members, newest first (a filter matching few walks only that source)
        Index("ix_members_source_first_seen", "source", "first_seen_at"),
        #: a name or username typed in part (prefix), or a username in any case
        Index("ix_members_name_lower", func.lower("first_name")),
        Index("ix_members_username_lower", func.lower("username")),
    )

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    #: first known source: a deep-link payload, an invite link name, "join_request" or "unknown"
    source: Mapped[str | None] = mapped_column(String(64))
    source_kind: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    #: the bot may send this member a private message (started it, or sent a join request)
    dm_allowed: Mapped[bool] = mapped_column(default=False)
    unreachable_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    gift_sent_at: Mapped[datetime | None]
    #: identity erased (``/forget``, ``/member ID forget``) or pseudonymised
    #: (``privacy.retention``): name, username, language and source are blank and stay so
    #: until they ``/start`` again
    erased_at: Mapped[datetime | None]

    @property
    def reachable(self) -> bool:
        return self.dm_allowed and self.unreachable_at is None
