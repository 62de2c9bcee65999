"""What may go to a member's private chat (issue 15), asked by the messenger before it queues a
DM: nothing to an erased member; no marketing to one who sent ``/stop``; marketing held until
"Agree" under ``privacy.require_consent`` (the gift pack waits, the rest is skipped); the first
DM a member gets carries the privacy notice. Shared (the messenger's), so it imports no room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.outbox import Purpose
from bot.db.repositories.privacy import HELD, PrivacyRepository
from bot.services.privacy_keys import digest

#: DMs a member may refuse (``/stop``) and that wait for consent
MARKETING: frozenset[str] = frozenset(
    {
        Purpose.WELCOME_DM,
        Purpose.WINBACK,
        Purpose.BROADCAST,
        Purpose.SOP_SEGMENT,
        Purpose.QA_REMINDER,
        Purpose.COUPON_DM,
    }
)
#: marketing that waits for consent rather than being skipped (owed to the member)
HELD_PURPOSES: frozenset[str] = frozenset({Purpose.WELCOME_DM})
#: the callback data prefix of the "Agree" button (``pv:agree:<user id>``)
AGREE = "pv:agree:"


class Verdict(Enum):
    SEND = "send"
    HOLD = "hold"
    DROP = "drop"


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    #: the notice to show with this DM (its version), or ``None``
    notice: int | None = None
    #: the "Agree" button goes with the notice
    ask_consent: bool = False

    @property
    def due_at(self) -> datetime | None:
        return HELD if self.verdict is Verdict.HOLD else None


class PrivacyGate:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, privacy_key: bytes | None = None
    ) -> None:
        self._session = session
        self._repo = PrivacyRepository(session)
        self._config = config
        self._key = privacy_key

    async def admit(self, user_id: int, purpose: str) -> Admission:
        member = await self._session.get(Member, user_id)
        if member is None:
            # erased (their rows carry a pseudonym; the suppression list keeps the id's hash)
            if self._key is not None and await self._repo.suppressed(digest(self._key, user_id)):
                return Admission(Verdict.DROP)
            return Admission(Verdict.SEND)  # not a member (an operator, a stranger)
        if member.erased_at is not None:
            return Admission(Verdict.DROP)
        privacy = self._config.privacy
        state = await self._repo.state(user_id)
        if purpose in MARKETING:
            if state is not None and state.opted_out_at is not None:
                return Admission(Verdict.DROP)
            if privacy.require_consent and (state is None or state.consented_at is None):
                held = purpose in HELD_PURPOSES
                return Admission(Verdict.HOLD if held else Verdict.DROP)
        if (
            privacy.notice
            and user_id not in self._config.team.operators
            and (state is None or (state.notice_version or 0) < privacy.notice_version)
        ):
            consented = state is not None and state.consented_at is not None
            return Admission(
                Verdict.SEND,
                notice=privacy.notice_version,
                ask_consent=privacy.require_consent and not consented,
            )
        return Admission(Verdict.SEND)

    async def shown(self, user_id: int, version: int, now: datetime) -> None:
        state = await self._repo.state_for(user_id)
        state.notice_version, state.notice_shown_at = version, now
        await self._repo.log(user_id, "notice", now, version)


def agree_button(label: str, user_id: int) -> list[dict[str, Any]]:
    return [{"text": label, "callback_data": f"{AGREE}{user_id}"}]
