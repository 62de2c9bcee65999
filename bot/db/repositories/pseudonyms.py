"""An erased or retention-pseudonymised member's Telegram id replaced, in every table, by a
fresh pseudonymous id (issue 15): their rows stay (counts and aggregates are unchanged) but
none of them is keyed by, or names, the real id any more.

Which columns hold a person's id is decided by the column's name, over the whole schema, so a
new table's ``user_id`` is covered without a list to keep; every other integer column must be
named in :data:`NOT_PEOPLE` (tests/unit/test_pseudonyms.py fails on an unclassified one).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    String,
    Table,
    cast,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import Base
from bot.db.models import AuditEntry, Member, OutboxMessage, OutboxStatus

#: integer columns naming a person (the member, an operator, an invitee)
PEOPLE: frozenset[str] = frozenset(
    {
        "user_id",
        "invitee_id",
        "referrer_id",
        "operator_id",
        "added_by",
        "created_by",
        "started_by",
        "claimed_by",
        "resolved_by",
        "answered_by",
        "by_user_id",
        "paused_by",
    }
)
#: integer columns naming a chat: a private chat's id is its member's id (groups are negative)
CHATS: frozenset[str] = frozenset({"chat_id", "source_chat_id", "card_chat_id", "answer_chat_id"})
#: integer columns that never hold a person's id (row ids, message ids, counts, amounts)
NOT_PEOPLE: frozenset[str] = frozenset(
    {
        "id", "update_id", "message_id", "source_message_id", "b_source_message_id",
        "progress_message_id", "card_message_id", "last_member_message_id", "thread_id",
        "seed", "audience", "progress_edits", "answer", "stint_id", "challenge_outbox_id",
        "cleanup_id", "total", "removed", "failed", "moved", "winback", "ticket_id",
        "incident_id", "amount_minor", "outbox_id", "size", "chunks", "seq", "membership_id",
        "broadcast_id", "session_id", "greeting_outbox_id", "lane", "attempts", "count",
        "messages", "members", "delta", "joins", "leaves", "version", "notice_version",
        "consent_version", "first_response_seconds", "response_seconds", "unrelayed",
        "relay_window_count", "reopened", "rating", "active_members", "coupons_issued",
        "dm_sent", "dm_blocked", "questions", "auto_answered", "escalated", "hooks_triggered",
        "coupons_redeemed", "members_reported", "reactivated", "silent_members",
        "welcome_due", "welcome_in_time", "questions_due",
    }
)  # fmt: skip
#: text columns that may name a person's id
TEXTS: tuple[tuple[str, str], ...] = (
    (AuditEntry.__tablename__, "args"),
    (OutboxMessage.__tablename__, "key"),
)
SETTLED = (OutboxStatus.SENT, OutboxStatus.SENT_UNKNOWN, OutboxStatus.FAILED)
#: pseudonyms lie below every chat id Telegram gives (supergroups are about -10**12)
FLOOR = 2**62


def _whole(real: int) -> re.Pattern[str]:
    """The id as a whole number: not inside a longer one, nor the digits of a negative one
    (``-123`` is a basic group's chat id, not person 123)."""
    return re.compile(rf"(?<![\d-]){real}(?!\d)")


def names(text: str, real: int) -> bool:
    """Whether ``text`` names the id ``real`` (a whole number)."""
    return _whole(real).search(text) is not None


def rename(text: str, real: int, pseudonym: int) -> str:
    """``text`` with the id ``real`` (a whole number) named by ``pseudonym``."""
    return _whole(real).sub(str(pseudonym), text)


def id_columns() -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) that may hold a person's id, ``members`` first."""
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Integer) and column.name in PEOPLE | CHATS:
                found.append((table, column))
    found.sort(key=lambda pair: pair[0].name != Member.__tablename__)
    return found


def unclassified() -> list[str]:
    """Integer columns of the schema in none of PEOPLE, CHATS, NOT_PEOPLE."""
    known = PEOPLE | CHATS | NOT_PEOPLE
    return [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Integer) and column.name not in known
    ]


class PseudonymRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def fresh(self) -> int:
        """A negative id below every chat id, not yet a member's."""
        while True:
            candidate = -(FLOOR + secrets.randbelow(2**63 - 1 - FLOOR))
            if await self._session.get(Member, candidate) is None:
                return candidate

    async def replace(self, real: int, pseudonym: int) -> int:
        """``real`` becomes ``pseudonym`` in every table (in the caller's transaction); the
        member row moves first (its children's foreign keys point at it). Returns how many rows
        changed. Objects of the session that held ``real`` are dropped from it."""
        await self._session.flush()
        for obj in list(self._session):
            if any(getattr(obj, c.key, None) == real for c in inspect(obj).mapper.columns):
                self._session.expunge(obj)
        members = Base.metadata.tables[Member.__tablename__]
        changed = 0
        cols = [c for c in members.columns if c.name != "user_id"]
        moved = await self._session.execute(
            insert(members).from_select(
                ["user_id", *(c.name for c in cols)],
                select(literal(pseudonym, BigInteger), *cols).where(members.c.user_id == real),
            )
        )
        changed += int(getattr(moved, "rowcount", 0) or 0)
        for table, column in id_columns():
            if table is members:
                continue
            result = await self._session.execute(
                update(table).where(column == real).values({column.name: pseudonym})
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
        await self._session.execute(members.delete().where(members.c.user_id == real))
        await self._rewrite_texts(real, pseudonym)
        await self._scrub_outbox(real, pseudonym)
        return changed

    async def _scrub_outbox(self, real: int, pseudonym: int) -> None:
        """The bot's messages to others that named the member (a ticket card, a ``/member``
        profile): settled ones keep no payload; those still to go name the pseudonym."""
        rows = await self._session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.payload).where(
                cast(OutboxMessage.payload, String).contains(str(real))
            )
        )
        for row_id, status, payload in rows.all():
            if not names(json.dumps(payload), real):  # the digits inside another number
                continue
            if status in SETTLED:
                scrubbed: dict[str, Any] = {}
            else:
                scrubbed = json.loads(rename(json.dumps(payload), real, pseudonym))
            await self._session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(payload=scrubbed)
            )

    async def _rewrite_texts(self, real: int, pseudonym: int) -> None:
        """Texts that name the id: outbox keys (``gift:ID``: a new gift after a ``/start``
        anew is not taken for the old one) and team commands in the audit log
        (``/member ID forget``)."""
        for name, column_name in TEXTS:
            table = Base.metadata.tables[name]
            column, key = table.c[column_name], table.c.id
            rows = await self._session.execute(
                select(key, column).where(column.contains(str(real)))
            )
            for row_id, text in rows.all():
                if not names(text, real):
                    continue
                await self._session.execute(
                    update(table)
                    .where(key == row_id)
                    .values({column.name: rename(text, real, pseudonym)})
                )
