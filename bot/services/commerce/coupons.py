"""Coupon codes: unique, unguessable, readable; issued within each campaign's caps, redeemed
once (a single conditional UPDATE decides between concurrent redemptions)."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig, CouponCampaign
from bot.db.models import GLOBAL_CHAT, Coupon, IssuedBy, Via
from bot.db.repositories import CouponRepository, RollupRepository
from bot.errors import CouponError

#: no 0/O, no 1/I/L: a code read aloud or typed from a screenshot comes out right
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 5  # 15 symbols of 31: 74 bits of entropy
CODE_LENGTH = GROUPS * GROUP_LENGTH
#: what members type between the groups (dashes of every width, dots, underscores, spaces)
_SEPARATORS = frozenset(" \t\r\n-_.·‐‑‒–—―−ー")


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(symbols)


def format_code(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


def normalize_code(text: str) -> str | None:
    """The canonical ``XXXXX-XXXXX-XXXXX`` form of what someone typed, or ``None`` when it
    cannot be a code.

    Case, spaces and missing or extra dashes do not matter; full-width letters and dashes (a
    Chinese input method) are folded by NFKC. The characters the alphabet leaves out (0 O 1 I L)
    have no unambiguous stand-in in it, so a code containing one is not a code."""
    folded = unicodedata.normalize("NFKC", text).upper()
    symbols = "".join(ch for ch in folded if ch not in _SEPARATORS)
    if len(symbols) != CODE_LENGTH or any(ch not in ALPHABET for ch in symbols):
        return None
    return format_code(symbols)


@dataclass(frozen=True)
class Redeemed:
    code: str
    campaign: str
    user_id: int
    redeemed_at: datetime
    via: Via
    order_id: str | None


class CouponRedeemError(CouponError):
    """A code could not be redeemed; the subclass says why."""

    kind = "unknown"

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.reason!r})"


class UnknownCouponError(CouponRedeemError):
    kind = "unknown"

    def __init__(self, code: str, *, malformed: bool = False) -> None:
        self.malformed = malformed
        super().__init__(
            code,
            "not a coupon code (codes look like ABCDE-FGHJK-MNPQR and never "
            "contain 0, O, 1, I or L)"
            if malformed
            else "no such coupon code",
        )


class ExpiredCouponError(CouponRedeemError):
    kind = "expired"

    def __init__(self, code: str, coupon: Coupon) -> None:
        self.coupon = coupon
        self.expired_at = coupon.expires_at
        super().__init__(code, f"expired at {coupon.expires_at.isoformat()}")


class VoidCouponError(CouponRedeemError):
    """The code's campaign was withdrawn (no longer under ``coupons``): see :func:`withdrawn`."""

    kind = "void"

    def __init__(self, code: str, coupon: Coupon) -> None:
        self.coupon = coupon
        self.campaign = coupon.campaign
        super().__init__(
            code,
            f"void: its campaign {coupon.campaign!r} was withdrawn (no longer under coupons)",
        )


class CouponAlreadyRedeemedError(CouponRedeemError):
    kind = "used"

    def __init__(self, code: str, coupon: Coupon) -> None:
        assert coupon.redeemed_at is not None
        self.coupon = coupon
        self.redeemed_at = coupon.redeemed_at
        super().__init__(
            code,
            f"already redeemed at {coupon.redeemed_at.isoformat()}"
            f" ({coupon.redeemed_via or 'unknown'})",
        )


class CouponNotOwnedError(CouponRedeemError):
    """An order names a buyer, and the code was issued to another member."""

    kind = "not_owner"

    def __init__(self, code: str, coupon: Coupon, buyer: int) -> None:
        self.coupon = coupon
        self.owner = coupon.user_id
        self.buyer = buyer
        super().__init__(
            code,
            "issued to another member, not to the buyer: not redeemed "
            "(the order is recorded and flagged for the team)",
        )


def withdrawn(campaign: str, config: CommunityConfig) -> bool:
    """The one rule of a void code: its campaign is no longer under ``coupons`` in the config.
    ``/mycoupons`` shows it *void*; ``/redeem`` and the orders endpoint refuse it
    (:meth:`CouponService.redeem` passes the live campaigns to its one UPDATE)."""
    return campaign not in config.coupons


class CampaignEndedError(CouponError):
    def __init__(self, campaign: str, ended: object) -> None:
        self.campaign = campaign
        super().__init__(f"campaign {campaign!r} ended on {ended}")


class CampaignBudgetSpentError(CouponError):
    def __init__(self, campaign: str, budget: int) -> None:
        self.campaign = campaign
        self.budget = budget
        super().__init__(f"the budget of campaign {campaign!r} ({budget} codes) is spent")


class CouponCapReachedError(CouponError):
    """The member has all the codes the campaign allows them, and the last one is spent (used
    or expired): there is nothing to give them, and no spent code is worth showing."""

    def __init__(self, campaign: str, per_member: int) -> None:
        self.campaign = campaign
        self.per_member = per_member
        super().__init__(
            f"the member has their {per_member} code(s) of campaign {campaign!r} "
            "and the last one is spent"
        )


def expiry(spec: CouponCampaign, now: datetime, tz: ZoneInfo) -> datetime:
    """``valid_days`` after issue, but never past the end of ``valid_until`` (local day)."""
    expires = now + timedelta(days=spec.valid_days)
    if spec.valid_until is not None:
        last = datetime.combine(spec.valid_until + timedelta(days=1), time(), tz)
        expires = min(expires, last)
    return expires


class CouponService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._coupons = CouponRepository(session)
        self._rollups = RollupRepository(session)
        self._config = config

    async def owned(self, user_id: int, campaign: str) -> list[Coupon]:
        return await self._coupons.for_member(user_id, campaign)

    async def issue(
        self, user_id: int, campaign: str, *, issued_by: IssuedBy, now: datetime
    ) -> Coupon:
        """A new code for ``user_id``, or their last one when the per-member cap is reached and
        it can still be used.

        Raises :class:`CouponError` for an unknown campaign, one that ended, a spent budget, or
        :class:`CouponCapReachedError` at the cap with the last code used or expired.
        """
        spec = self._config.coupons.get(campaign)
        if spec is None:
            raise CouponError(f"no coupon campaign named {campaign!r}")
        await self._coupons.lock_member(user_id)
        owned = await self._coupons.for_member(user_id, campaign)
        if len(owned) >= spec.per_member:
            last = owned[-1]
            if last.redeemed_at is not None or last.expires_at <= now:
                raise CouponCapReachedError(campaign, spec.per_member)
            return last
        tz: ZoneInfo = self._config.tz
        if expiry(spec, now, tz) <= now:
            raise CampaignEndedError(campaign, spec.valid_until)
        if spec.budget is not None:
            await self._coupons.lock_campaign(campaign)
        if spec.budget is not None and await self._coupons.issued_count(campaign) >= spec.budget:
            raise CampaignBudgetSpentError(campaign, spec.budget)
        code = new_code()
        while await self._coupons.code_exists(code):  # 74 bits: practically never loops
            code = new_code()
        coupon = await self._coupons.add(
            Coupon(
                code=code,
                campaign=campaign,
                user_id=user_id,
                issued_by=issued_by,
                issued_at=now,
                expires_at=expiry(spec, now, tz),
            )
        )
        await self._rollups.add(GLOBAL_CHAT, now.astimezone(tz).date(), coupons_issued=1)
        return coupon

    async def redeem(
        self,
        code: str,
        now: datetime,
        *,
        via: Via,
        order_id: str | None = None,
        owner: int | None = None,
    ) -> Redeemed:
        """Marks the code redeemed, once: one conditional UPDATE (the code, not redeemed, not
        expired, of a campaign not :func:`withdrawn`, issued to ``owner`` when given), so of two
        concurrent redemptions exactly one wins.

        Raises :class:`UnknownCouponError`, :class:`CouponNotOwnedError`,
        :class:`CouponAlreadyRedeemedError`, :class:`ExpiredCouponError` or
        :class:`VoidCouponError`.
        """
        canonical = normalize_code(code)
        if canonical is None:
            raise UnknownCouponError(code.strip()[:40], malformed=True)
        won = await self._coupons.redeem(  # the live campaigns: those not withdrawn
            canonical,
            now,
            via=via,
            order_id=order_id,
            owner=owner,
            campaigns=list(self._config.coupons),
        )
        if won is None:
            coupon = await self._coupons.by_code(canonical)
            if coupon is None:
                raise UnknownCouponError(canonical)
            if owner is not None and coupon.user_id != owner:
                raise CouponNotOwnedError(canonical, coupon, owner)
            if coupon.redeemed_at is not None:
                raise CouponAlreadyRedeemedError(canonical, coupon)
            if coupon.expires_at <= now:
                raise ExpiredCouponError(canonical, coupon)
            raise VoidCouponError(canonical, coupon)
        campaign, user_id = won
        await self._rollups.add(
            GLOBAL_CHAT, now.astimezone(self._config.tz).date(), coupons_redeemed=1
        )
        return Redeemed(
            code=canonical,
            campaign=campaign,
            user_id=user_id,
            redeemed_at=now,
            via=via,
            order_id=order_id,
        )

    async def lookup(self, code: str) -> Coupon | None:
        """The coupon a typed code names, without redeeming it."""
        canonical = normalize_code(code)
        return None if canonical is None else await self._coupons.by_code(canonical)
