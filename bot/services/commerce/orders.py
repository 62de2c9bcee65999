"""Orders from shops (signed HTTP endpoint) and CSV imports: recorded once by order id; a
coupon code in an order redeems it; spend feeds the value tiers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Via
from bot.db.repositories import CouponRepository
from bot.db.repositories.growth import OrderRepository
from bot.errors import SopbotError
from bot.ids import parse_user_id
from bot.services.commerce.coupons import (
    CouponNotOwnedError,
    CouponRedeemError,
    CouponService,
    normalize_code,
)

log = logging.getLogger(__name__)

_ORDER_ID = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
#: an amount this large is a typo (or an attack), not an order
MAX_MINOR = 10**13
#: the order's coupon was issued to another member than its buyer, so it was not redeemed
FLAG_COUPON_NOT_OWNER = "coupon_not_owner"


class OrderInputError(SopbotError):
    """An order that cannot be recorded; ``reason`` names the field and what is wrong."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class OrderInput:
    order_id: str
    amount_minor: int
    ordered_at: datetime
    member_id: int | None = None
    coupon: str | None = None
    currency: str | None = None


class OrderStatus(StrEnum):
    """What became of a reported order."""

    RECORDED = "recorded"
    #: the order id was recorded before: nothing counted again
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class OrderOutcome:
    order_id: str
    status: OrderStatus
    user_id: int | None = None
    #: redeemed, none, or the reason it was not: unknown, expired, used
    coupon: str = "none"
    coupon_detail: str | None = None


#: characters of a number given as text; more is not a price or a time (refused unparsed)
MAX_NUMBER_TEXT = 40
#: significant digits of a number (trailing zeros aside); a JSON number may carry 64 KB of them
MAX_DIGITS = 30
#: the last second ``datetime`` can hold: 9999-12-31T23:59:59Z
MAX_UNIX_TIME = 253402300799


@dataclass(frozen=True)
class _Exact:
    """A finite number as ``±coefficient × 10**exponent`` with no trailing zeros in
    ``coefficient``. Nothing is computed from ``exponent`` until it is bounded: a JSON number
    like ``1e999999999`` costs a few bytes here, and a lifetime as an ``int``."""

    negative: bool
    coefficient: int
    exponent: int
    shown: str

    @property
    def digits(self) -> int:
        """Digits before the decimal point (``<= 0`` for a number below 1); 0 for zero."""
        return 0 if self.coefficient == 0 else len(str(self.coefficient)) + self.exponent


def _exact(value: object, field: str, example: str) -> _Exact:
    """``value`` (a JSON number read as :class:`Decimal`, an int, a float or text) checked for
    size before anything is converted; :class:`OrderInputError` naming ``field`` otherwise."""
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        raise OrderInputError(f"{field}: out of range (a number of {value.bit_length()} bits)")
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise OrderInputError(
                f"{field}: expected a number like {example} (got {len(text)} characters)"
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise OrderInputError(
                f"{field}: expected a number like {example} (got {text[:20]!r})"
            ) from None
    if not number.is_finite():
        raise OrderInputError(f"{field}: expected a finite number like {example}")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > MAX_DIGITS:
        raise OrderInputError(f"{field}: out of range (a number of {significant} digits)")
    coefficient = int("".join(map(str, digits[:significant])))
    shown = str(number) if len(digits) <= MAX_DIGITS else f"{len(digits)} digits"
    return _Exact(
        negative=bool(sign) and coefficient != 0,
        coefficient=coefficient,
        exponent=exponent + len(digits) - significant if coefficient else 0,
        shown=shown[:40],
    )


def parse_amount(value: object) -> int:
    """``12.5``, ``"12.50"``, ``1999`` → minor units (1250, 1250, 199900); at most two decimals,
    not negative. The size is checked before anything is multiplied, exactly (no rounding to
    a context precision, no overflow, nothing small rounded down to 0)."""
    if isinstance(value, bool) or value is None:
        raise OrderInputError("amount: expected a number like 12.50")
    amount = _exact(value, "amount", "12.50")
    if amount.coefficient == 0:
        return 0
    if amount.digits < -1:
        raise OrderInputError(f"amount: {amount.shown} is below 0.01, the smallest amount")
    if amount.exponent < -2:
        raise OrderInputError(f"amount: at most two decimals (got {amount.shown})")
    if amount.negative:
        raise OrderInputError(f"amount: must not be negative (got {amount.shown})")
    if amount.digits + 2 > len(str(MAX_MINOR)):
        raise OrderInputError(f"amount: {amount.shown} is too large")
    scale: int = 10 ** (amount.exponent + 2)  # 0 <= exponent + 2 <= 14 here
    minor = amount.coefficient * scale
    if minor > MAX_MINOR:
        raise OrderInputError(f"amount: {amount.shown} is too large")
    return minor


def _unix_time(value: object) -> datetime:
    """Unix seconds (a fraction is dropped), bounded before any conversion."""
    seconds = _exact(value, "time", "1763618580")
    if seconds.negative or seconds.digits > len(str(MAX_UNIX_TIME)):
        raise OrderInputError(
            f"time: {seconds.shown} is not a usable Unix time (0 to {MAX_UNIX_TIME})"
        )
    if seconds.coefficient != 0 and seconds.digits <= 0:
        raise OrderInputError(
            f"time: {seconds.shown} is under one second after 1970, not a usable Unix time"
        )
    whole = (
        seconds.coefficient * 10**seconds.exponent
        if seconds.exponent >= 0
        else seconds.coefficient // 10**-seconds.exponent
    )  # -exponent < MAX_DIGITS here
    if whole > MAX_UNIX_TIME:
        raise OrderInputError(
            f"time: {seconds.shown} is not a usable Unix time (0 to {MAX_UNIX_TIME})"
        )
    try:
        return datetime.fromtimestamp(whole, UTC)
    except (OverflowError, ValueError, OSError):
        raise OrderInputError(f"time: {seconds.shown} is not a usable Unix time") from None


def parse_time(value: object, tz: ZoneInfo) -> datetime:
    """ISO 8601 (``2026-11-20T14:03:00+08:00``; without an offset: the config's time zone;
    a date alone: its midnight) or Unix seconds."""
    if isinstance(value, bool) or value is None:
        raise OrderInputError("time: expected ISO 8601 like 2026-11-20T14:03:00+08:00")
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.strip().isdigit()):
        return _unix_time(value)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise OrderInputError(
            f"time: expected ISO 8601 like 2026-11-20T14:03:00+08:00 (got {text[:40]!r})"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise OrderInputError(f"time: out of range (got {text[:40]!r})") from None


def parse_member(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise OrderInputError("member_id: expected a Telegram user id (a whole number)")
    text = str(value).strip()
    member_id = parse_user_id(text)
    if member_id is None:
        raise OrderInputError(f"member_id: expected a Telegram user id (got {text[:20]!r})")
    return member_id


def parse_order(fields: dict[str, Any], tz: ZoneInfo) -> OrderInput:
    """Validates one order given as a mapping (a JSON object or a CSV row)."""
    order_id = fields.get("order_id")
    if (
        not isinstance(order_id, (str, int))
        or isinstance(order_id, bool)
        or not _ORDER_ID.match(str(order_id).strip())
    ):
        raise OrderInputError("order_id: required, 1-64 printable characters without spaces")
    member_id = parse_member(fields.get("member_id"))
    coupon_raw = fields.get("coupon")
    coupon: str | None = None
    if coupon_raw is not None and not (isinstance(coupon_raw, str) and not coupon_raw.strip()):
        if not isinstance(coupon_raw, str):
            raise OrderInputError("coupon: expected a coupon code as text")
        coupon = coupon_raw.strip()[:40]
    if member_id is None and coupon is None:
        raise OrderInputError("member_id or coupon: one of them is required")
    if "amount" not in fields:
        raise OrderInputError("amount: required")
    if "time" not in fields:
        raise OrderInputError("time: required")
    currency = fields.get("currency")
    if currency is not None and not (isinstance(currency, str) and not currency.strip()):
        if not isinstance(currency, str) or not _CURRENCY.match(currency.strip()):
            raise OrderInputError("currency: expected a three-letter code like CNY")
        currency = currency.strip().upper()
    else:
        currency = None
    return OrderInput(
        order_id=str(order_id).strip(),
        amount_minor=parse_amount(fields["amount"]),
        ordered_at=parse_time(fields["time"], tz),
        member_id=member_id,
        coupon=coupon,
        currency=currency,
    )


class OrderService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._orders = OrderRepository(session)
        self._coupon_codes = CouponRepository(session)
        self._coupons = CouponService(session, config)

    async def record(self, order: OrderInput, now: datetime, *, via: Via) -> OrderOutcome:
        """Records ``order`` once. A duplicate order id changes nothing (and redeems nothing).

        The buyer is ``member_id``, else the owner of the coupon. A coupon that cannot be
        redeemed does not stop the order from being recorded: the outcome says why. A coupon
        issued to another member than ``member_id`` is not redeemed (its owner keeps it) and
        the order is flagged ``coupon_not_owner``: the sale happened, so its spend counts, but
        a code passed on (or a shop sending the wrong member) is for the team to look at."""
        canonical = normalize_code(order.coupon) if order.coupon else None
        # written first: a second writer (an import beside the bot on SQLite) then waits for
        # this transaction instead of failing on a snapshot read before it
        added = await self._orders.add_new(
            order_id=order.order_id,
            user_id=order.member_id,
            coupon_code=canonical or (order.coupon[:32] if order.coupon else None),
            amount_minor=order.amount_minor,
            currency=order.currency,
            ordered_at=order.ordered_at,
            received_at=now,
            via=via,
        )
        if not added:
            return OrderOutcome(order.order_id, OrderStatus.DUPLICATE)
        user_id = order.member_id
        if user_id is None and canonical is not None:
            coupon = await self._coupon_codes.by_code(canonical)
            if coupon is not None:
                user_id = coupon.user_id
                await self._orders.attribute(order.order_id, user_id)
        if order.coupon is None:
            return OrderOutcome(order.order_id, OrderStatus.RECORDED, user_id)
        try:
            await self._coupons.redeem(
                order.coupon, now, via=via, order_id=order.order_id, owner=order.member_id
            )
        except CouponNotOwnedError as error:
            await self._orders.flag(order.order_id, FLAG_COUPON_NOT_OWNER)
            log.warning(
                "orders: %s names buyer %d with a coupon issued to member %d: not "
                "redeemed, flagged %s",
                order.order_id,
                error.buyer,
                error.owner,
                FLAG_COUPON_NOT_OWNER,
            )
            return OrderOutcome(
                order.order_id,
                OrderStatus.RECORDED,
                user_id,
                coupon=error.kind,
                coupon_detail=error.reason,
            )
        except CouponRedeemError as error:
            return OrderOutcome(
                order.order_id,
                OrderStatus.RECORDED,
                user_id,
                coupon=error.kind,
                coupon_detail=error.reason,
            )
        return OrderOutcome(order.order_id, OrderStatus.RECORDED, user_id, coupon="redeemed")
