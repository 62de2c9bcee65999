"""Updates already handled: Telegram may deliver one twice, its effects happen once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)
