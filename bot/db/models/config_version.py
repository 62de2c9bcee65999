"""The community configuration as reloaded (``/sop reload``, SIGHUP): its validated text and
hash, so that every process of the bot loads the same file within seconds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class ConfigVersion(Base):
    """One row per reload; the newest is what every process should run."""

    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: SHA-256 of ``text`` (hex)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime]
