"""Files waiting in the outbox: their bytes live in the database, committed with the row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class OutboxFile(Base):
    """One file an outbox row sends (``sendDocument``/``sendPhoto``); removed once the row is
    settled. ``ref`` is random, so a key freed by a failure never meets stale chunks."""

    __tablename__ = "outbox_files"

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class OutboxFileChunk(Base):
    """A slice of a file (at most ``CHUNK`` bytes): neither writing nor sending a file ever
    holds more than one slice in memory."""

    __tablename__ = "outbox_file_chunks"

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
