"""The audit log: every team command, who asked it, where, and what came of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK

#: what came of a command
OK = "ok"
USAGE = "usage"
REFUSED = "refused"
ELSEWHERE = "elsewhere"
ERROR = "error"
RESULTS = (OK, USAGE, REFUSED, ELSEWHERE, ERROR)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: one entry per update, even when the update is handled twice (redelivery after a crash)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_name: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    chat_kind: Mapped[str] = mapped_column(String(16))
    command: Mapped[str] = mapped_column(String(32))
    #: the arguments, shortened and with anything that looks like a secret masked
    args: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))
