"""The privacy room's data: each member's notice, consent and opt-out, the consent log, the
suppression list, and what a member's export and erasure touch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    ActivityDaily,
    AuditEntry,
    BroadcastRecipient,
    Coupon,
    DeskRelay,
    DeskTicket,
    DeskTopic,
    HookHit,
    Member,
    Membership,
    MemberTag,
    ModAction,
    OutboxMessage,
    OutboxStatus,
    PrivacyEvent,
    PrivacyState,
    QaRsvp,
    Question,
    Referral,
    ReferralLink,
    Suppression,
    TagEvent,
)
from bot.db.models.order import Order
from bot.db.models.tags import MemberStage
from bot.db.repositories.pseudonyms import PseudonymRepository
from bot.db.upsert import insert_for

#: the due time of a marketing DM held until the member agrees (``privacy.require_consent``)
HELD = datetime(9000, 1, 1, tzinfo=UTC)


def marketing_allowed(require_consent: bool) -> ColumnElement[bool]:
    """Members who may get marketing DMs: not opted out (``/stop``), not erased, and, when
    consent is required, agreed."""
    opted_out = exists().where(
        PrivacyState.user_id == Member.user_id, PrivacyState.opted_out_at.is_not(None)
    )
    allowed = and_(Member.erased_at.is_(None), not_(opted_out))
    if require_consent:
        agreed = exists().where(
            PrivacyState.user_id == Member.user_id, PrivacyState.consented_at.is_not(None)
        )
        allowed = and_(allowed, agreed)
    return allowed


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def refused(self, user_ids: Sequence[int], require_consent: bool) -> set[int]:
        """Those of ``user_ids`` who may not get marketing DMs (now)."""
        if not user_ids:
            return set()
        result = await self._session.execute(
            select(Member.user_id).where(
                Member.user_id.in_(user_ids), not_(marketing_allowed(require_consent))
            )
        )
        return {int(uid) for uid in result.scalars()}

    async def state(self, user_id: int) -> PrivacyState | None:
        return await self._session.get(PrivacyState, user_id)

    async def state_for(self, user_id: int) -> PrivacyState:
        """The member's row, made when missing, locked for the transaction."""
        await self._session.execute(
            insert_for(self._session, PrivacyState)
            .values(user_id=user_id)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        return (
            await self._session.execute(
                select(PrivacyState)
                .where(PrivacyState.user_id == user_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()

    async def log(self, user_id: int, event: str, at: datetime, version: int | None = None) -> None:
        self._session.add(PrivacyEvent(user_id=user_id, event=event, version=version, at=at))
        await self._session.flush()

    async def events(self, user_id: int) -> Sequence[PrivacyEvent]:
        result = await self._session.execute(
            select(PrivacyEvent).where(PrivacyEvent.user_id == user_id).order_by(PrivacyEvent.id)
        )
        return result.scalars().all()

    async def count_events(self, event: str, start: datetime, end: datetime) -> int:
        result = await self._session.execute(
            select(func.count()).where(
                PrivacyEvent.event == event, PrivacyEvent.at >= start, PrivacyEvent.at < end
            )
        )
        return int(result.scalar_one())

    # -- the suppression list -------------------------------------------------------------------
    async def suppress(self, digest: str, at: datetime) -> None:
        await self._session.execute(
            insert_for(self._session, Suppression)
            .values(digest=digest, at=at)
            .on_conflict_do_nothing(index_elements=["digest"])
        )

    async def lift(self, digest: str) -> bool:
        result = await self._session.execute(
            delete(Suppression).where(Suppression.digest == digest)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def suppressed(self, digest: str) -> bool:
        return (await self._session.get(Suppression, digest)) is not None

    # -- held DMs -------------------------------------------------------------------------------
    async def release_held(self, chat_id: int, now: datetime) -> int:
        """Marketing DMs held for consent go now."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.due_at == HELD,
            )
            .values(due_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- export ---------------------------------------------------------------------------------
    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row kept about ``user_id``, by table; columns naming someone else (an
        operator, an invitee) are left out."""
        by_user: list[tuple[str, Any, Any, frozenset[str]]] = [
            ("member", Member, Member.user_id, frozenset()),
            ("memberships", Membership, Membership.user_id, frozenset()),
            ("activity", ActivityDaily, ActivityDaily.user_id, frozenset()),
            ("stage", MemberStage, MemberStage.user_id, frozenset()),
            ("tags", MemberTag, MemberTag.user_id, frozenset()),
            ("tag_history", TagEvent, TagEvent.user_id, frozenset()),
            ("coupons", Coupon, Coupon.user_id, frozenset()),
            ("orders", Order, Order.user_id, frozenset()),
            ("referral_link", ReferralLink, ReferralLink.user_id, frozenset()),
            ("referred_by", Referral, Referral.invitee_id, frozenset({"referrer_id"})),
            ("referred", Referral, Referral.referrer_id, frozenset({"invitee_id"})),
            ("tickets", DeskTicket, DeskTicket.user_id, frozenset({"claimed_by"})),
            ("questions", Question, Question.user_id, frozenset({"answered_by"})),
            ("hook_hits", HookHit, HookHit.user_id, frozenset()),
            ("qa_rsvps", QaRsvp, QaRsvp.user_id, frozenset()),
            ("broadcasts_received", BroadcastRecipient, BroadcastRecipient.user_id, frozenset()),
            ("moderation", ModAction, ModAction.user_id, frozenset({"by_user_id"})),
            ("privacy", PrivacyState, PrivacyState.user_id, frozenset({"forget_token"})),
            ("consent_log", PrivacyEvent, PrivacyEvent.user_id, frozenset()),
        ]
        document: dict[str, list[dict[str, Any]]] = {}
        for name, model, column, omit in by_user:
            rows = (await self._session.execute(select(model).where(column == user_id))).scalars()
            document[name] = [_plain(row, omit) for row in rows]
        return document

    # -- erasure --------------------------------------------------------------------------------
    async def erase(self, user_id: int, now: datetime) -> tuple[int, list[tuple[int, int]]]:
        """Blanks the member's identity, drops their referral link and the desk's mappings,
        voids unused coupons, closes open tickets, then replaces their id everywhere by a fresh
        pseudonym (bot/db/repositories/pseudonyms.py). Returns the pseudonym and the forum
        topics (chat, thread) that carried their name."""
        await self._session.execute(
            update(Member)
            .where(Member.user_id == user_id)
            .values(
                first_name="",
                username=None,
                language_code=None,
                source=None,
                source_kind=None,
                erased_at=now,
                dm_allowed=False,
            )
            .execution_options(synchronize_session="fetch")
        )
        await self._session.execute(
            update(Membership).where(Membership.user_id == user_id).values(invite_link=None)
        )
        await self._session.execute(delete(ReferralLink).where(ReferralLink.user_id == user_id))
        await self._session.execute(
            update(Coupon)
            .where(Coupon.user_id == user_id, Coupon.redeemed_at.is_(None), Coupon.expires_at > now)
            .values(expires_at=now)
        )
        await self._session.execute(
            update(DeskTicket)
            .where(DeskTicket.user_id == user_id, DeskTicket.closed_at.is_(None))
            .values(status="closed", closed_at=now, close_reason="erased")
        )
        await self._session.execute(delete(DeskRelay).where(DeskRelay.user_id == user_id))
        # the bot's own texts to them (their name, their codes): settled rows keep no payload
        await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == user_id,
                OutboxMessage.status.in_(
                    (OutboxStatus.SENT, OutboxStatus.SENT_UNKNOWN, OutboxStatus.FAILED)
                ),
            )
            .values(payload={})
        )
        topics = (
            await self._session.execute(
                select(DeskTopic.chat_id, DeskTopic.thread_id).where(DeskTopic.user_id == user_id)
            )
        ).all()
        await self._session.execute(delete(DeskTopic).where(DeskTopic.user_id == user_id))
        await self._session.execute(delete(PrivacyEvent).where(PrivacyEvent.user_id == user_id))
        await self._session.execute(delete(PrivacyState).where(PrivacyState.user_id == user_id))
        return await self.rekey(user_id), [(int(c), int(t)) for c, t in topics if t is not None]

    async def stale(self, before: datetime, limit: int) -> list[int]:
        """Members not erased, silent since before ``before`` and not seen leaving since (the
        retention pass: a member gone or silent longer than ``privacy.retention``)."""
        last = func.coalesce(Member.last_seen_at, Member.first_seen_at)
        left_since = exists().where(
            Membership.user_id == Member.user_id, Membership.left_at > before
        )
        query = (
            select(Member.user_id)
            .where(Member.erased_at.is_(None), last < before, not_(left_since))
            .order_by(Member.user_id)
            .limit(limit)
        )
        return [int(uid) for uid in (await self._session.execute(query)).scalars()]

    async def erased_by_id(self, limit: int) -> list[int]:
        """Erased members still keyed by their Telegram id: erased before ids were
        pseudonymised, or seen again before a ``/start`` (LedgerService.seen)."""
        query = (
            select(Member.user_id)
            .where(Member.erased_at.is_not(None), Member.user_id > 0)
            .order_by(Member.user_id)
            .limit(limit)
        )
        return [int(uid) for uid in (await self._session.execute(query)).scalars()]

    async def rekey(self, user_id: int) -> int:
        """``user_id``'s rows under a fresh pseudonym; the pseudonym."""
        pseudonyms = PseudonymRepository(self._session)
        pseudonym = await pseudonyms.fresh()
        await pseudonyms.replace(user_id, pseudonym)
        return pseudonym

    async def drop_audit_before(self, before: datetime) -> int:
        """The audit log's entries older than ``before`` deleted; how many."""
        result = await self._session.execute(delete(AuditEntry).where(AuditEntry.at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_mod_actions_before(self, before: datetime) -> int:
        """The moderation log's actions older than ``before`` deleted; how many."""
        result = await self._session.execute(delete(ModAction).where(ModAction.at < before))
        return int(getattr(result, "rowcount", 0) or 0)


def _plain(row: Any, omit: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in omit:
            continue
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out
