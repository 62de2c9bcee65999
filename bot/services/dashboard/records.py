"""The records the dashboard lists: the audit log (a page at a time, as ``/audit`` shows its
entries), the desk's tickets not closed (as ``/tickets``), and moderation actions and alerts
(as ``/modlog`` and the KPI's community order count them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.desk import OPEN
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.desk import DeskRepository
from bot.db.repositories.moderation import ModActionRepository, ModAlertRepository
from bot.services.desk.team import is_overdue, waiting_minutes
from bot.services.desk.views import short_name
from bot.services.records.audit import AuditService

AUDIT_PER_PAGE = 50
MOST_TICKETS = 100
MOST_ACTIONS = 100


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    who: str
    user_id: int
    #: DM, team or a community's title
    where: str
    command: str
    args: str
    result: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLine]
    page: int
    has_more: bool


@dataclass(frozen=True)
class TicketLine:
    id: int
    user_id: int
    who: str
    status: str
    opened_at: datetime
    overdue: bool
    waiting_minutes: int | None
    claimed_by: int | None
    role: str | None


@dataclass(frozen=True)
class TicketList:
    rows: list[TicketLine]
    total: int

    @property
    def overdue(self) -> int:
        return sum(1 for t in self.rows if t.overdue)


@dataclass(frozen=True)
class ModActionLine:
    at: datetime
    action: str
    rule: str
    user_id: int
    by: int | None
    where: str
    until: datetime | None


@dataclass(frozen=True)
class ModerationReport:
    actions: list[ModActionLine]
    #: today's actions by kind and alerts by level (with claimed and resolved)
    actions_today: dict[str, int]
    alerts_today: dict[str, int]


class RecordsQuery:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._session = session
        self._config = config

    async def audit(self, page: int = 1) -> AuditPage:
        page = max(1, page)
        entries = await AuditRepository(self._session).latest(
            AUDIT_PER_PAGE + 1, offset=(page - 1) * AUDIT_PER_PAGE
        )
        places = AuditService(self._session, self._config)
        rows = [
            AuditLine(
                e.at,
                e.user_name,
                e.user_id,
                places.where(e.chat_id, e.chat_kind),
                e.command,
                e.args,
                e.result,
            )
            for e in entries[:AUDIT_PER_PAGE]
        ]
        return AuditPage(rows, page, len(entries) > AUDIT_PER_PAGE)

    async def tickets(self, now: datetime) -> TicketList:
        """Not closed: overdue first, then open, then answered (as ``/tickets`` orders them)."""
        repo = DeskRepository(self._session)
        found = list(await repo.not_closed(MOST_TICKETS))
        ids = {t.user_id for t in found}
        members = {
            m.user_id: m
            for m in (
                await self._session.execute(select(Member).where(Member.user_id.in_(ids)))
            ).scalars()
        }
        rows = [
            TicketLine(
                id=t.id,
                user_id=t.user_id,
                who=short_name(members.get(t.user_id), t.user_id),
                status=t.status,
                opened_at=t.opened_at,
                overdue=is_overdue(t, now),
                waiting_minutes=waiting_minutes(t, now),
                claimed_by=t.claimed_by,
                role=t.role,
            )
            for t in found
        ]
        rows.sort(key=lambda t: (not t.overdue, t.status != OPEN, t.id))
        return TicketList(rows, await repo.count_not_closed())

    async def moderation(self, now: datetime) -> ModerationReport:
        titles = {c.chat_id: c.title for c in self._config.communities}
        actions = [
            ModActionLine(
                a.at,
                a.action,
                a.rule,
                a.user_id,
                a.by_user_id,
                titles.get(a.chat_id, str(a.chat_id)),
                a.until,
            )
            for a in await ModActionRepository(self._session).latest(MOST_ACTIONS)
        ]
        tz = self._config.tz
        start = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
        end = start + timedelta(days=1)
        return ModerationReport(
            actions,
            await ModActionRepository(self._session).counts(start, end),
            await ModAlertRepository(self._session).counts(start, end),
        )
