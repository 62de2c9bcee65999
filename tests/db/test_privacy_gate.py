"""The privacy gate knows an erased id with no row (its rows carry a pseudonym) from the
suppression list, on SQLite and PostgreSQL: nothing goes to it, of any purpose, until a
``/start`` lifts it; a stranger not on the list is still written to."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import CommunityConfig
from bot.db.models.outbox import Purpose
from bot.db.repositories.privacy import PrivacyRepository
from bot.services.privacy_gate import PrivacyGate, Verdict
from bot.services.privacy_keys import digest

KEY = b"k" * 32
ERASED, STRANGER = 7_400_000_001, 7_400_000_002
NOW = datetime(2026, 11, 20, 1, tzinfo=UTC)


async def test_an_erased_id_without_a_row_gets_nothing(
    sessions: async_sessionmaker[AsyncSession], config: CommunityConfig
) -> None:
    async with sessions() as session, session.begin():
        await PrivacyRepository(session).suppress(digest(KEY, ERASED), NOW)
    async with sessions() as session:
        gate = PrivacyGate(session, config, KEY)
        for purpose in (Purpose.REPLY, Purpose.BROADCAST, Purpose.COUPON_DM):
            assert (await gate.admit(ERASED, purpose)).verdict is Verdict.DROP
        assert (await gate.admit(STRANGER, Purpose.REPLY)).verdict is Verdict.SEND
        # a gate without the key (the team-only messengers of delivery hooks) cannot tell
        assert (await PrivacyGate(session, config).admit(ERASED, Purpose.REPLY)).verdict is (
            Verdict.SEND
        )
    async with sessions() as session, session.begin():
        assert await PrivacyRepository(session).lift(digest(KEY, ERASED))
    async with sessions() as session:
        verdict = (await PrivacyGate(session, config, KEY).admit(ERASED, Purpose.REPLY)).verdict
    assert verdict is Verdict.SEND
