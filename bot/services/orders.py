"""Orders from shops (signed HTTP endpoint) and CSV imports: recorded once by order id; a
coupon code in an order redeems it; spend feeds the value tiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.ids import parse_user_id
from bot.config import CommunityConfig
from bot.db.repositories import CouponRepository
from bot.db.repositories.growth import OrderRepository
from bot.errors import SopbotError
from bot.services.coupons import CouponRedeemError, CouponService, normalize_code

_ORDER_ID = re.compile(r"^[\x21-\x7e]{1,64}$")   # printable ASCII, no spaces
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
#: an amount this large is a typo (or an attack), not an order
MAX_MINOR = 10**13


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


@dataclass(frozen=True)
class OrderOutcome:
    order_id: str
    #: recorded, or duplicate (the order id was recorded before: nothing counted again)
    status: str
    user_id: int | None = None
    #: redeemed, none, or the reason it was not: unknown, expired, used
    coupon: str = "none"
    coupon_detail: str | None = None


def parse_amount(value: object) -> int:
    """``12.5``, ``"12.50"``, ``1999`` → minor units (1250, 1250, 199900); at most two decimals,
    not negative."""
    if isinstance(value, bool) or value is None:
        raise OrderInputError("amount: expected a number like 12.50")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise OrderInputError(f"amount: expected a number like 12.50 (got {str(value)[:20]!r})") \
            from None
    if not amount.is_finite():
        raise OrderInputError("amount: expected a number like 12.50")
    minor = amount * 100
    if minor != minor.to_integral_value():
        raise OrderInputError(f"amount: at most two decimals (got {amount})")
    if minor < 0:
        raise OrderInputError(f"amount: must not be negative (got {amount})")
    if minor > MAX_MINOR:
        raise OrderInputError(f"amount: {amount} is too large")
    return int(minor)


def parse_time(value: object, tz: ZoneInfo) -> datetime:
    """ISO 8601 (``2026-11-20T14:03:00+08:00``; without an offset: the config's time zone;
    a date alone: its midnight) or Unix seconds."""
    if isinstance(value, bool) or value is None:
        raise OrderInputError("time: expected ISO 8601 like 2026-11-20T14:03:00+08:00")
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, ValueError, OSError):
            raise OrderInputError(f"time: {value} is not a usable Unix time") from None
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z")
                                        else text)
    except ValueError:
        raise OrderInputError(f"time: expected ISO 8601 like 2026-11-20T14:03:00+08:00 "
                              f"(got {text[:40]!r})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:   # 0001-01-01 east of UTC, 9999-12-31 west of it
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
    if not isinstance(order_id, (str, int)) or isinstance(order_id, bool) or \
            not _ORDER_ID.match(str(order_id).strip()):
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
    return OrderInput(order_id=str(order_id).strip(), amount_minor=parse_amount(fields["amount"]),
                      ordered_at=parse_time(fields["time"], tz), member_id=member_id,
                      coupon=coupon, currency=currency)


class OrderService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._orders = OrderRepository(session)
        self._coupon_codes = CouponRepository(session)
        self._coupons = CouponService(session, config)

    async def record(self, order: OrderInput, now: datetime, *, via: str) -> OrderOutcome:
        """Records ``order`` once. A duplicate order id changes nothing (and redeems nothing).

        The buyer is ``member_id``, else the owner of the coupon. A coupon that cannot be
        redeemed does not stop the order from being recorded: the outcome says why."""
        canonical = normalize_code(order.coupon) if order.coupon else None
        # written first: a second writer (an import beside the bot on SQLite) then waits for
        # this transaction instead of failing on a snapshot read before it
        added = await self._orders.add_new(
            order_id=order.order_id, user_id=order.member_id,
            coupon_code=canonical or (order.coupon[:32] if order.coupon else None),
            amount_minor=order.amount_minor, currency=order.currency,
            ordered_at=order.ordered_at, received_at=now, via=via)
        if not added:
            return OrderOutcome(order.order_id, "duplicate")
        user_id = order.member_id
        if user_id is None and canonical is not None:
            coupon = await self._coupon_codes.by_code(canonical)
            if coupon is not None:
                user_id = coupon.user_id
                await self._orders.attribute(order.order_id, user_id)
        if order.coupon is None:
            return OrderOutcome(order.order_id, "recorded", user_id)
        try:
            await self._coupons.redeem(order.coupon, now, via=via, order_id=order.order_id)
        except CouponRedeemError as error:
            return OrderOutcome(order.order_id, "recorded", user_id, coupon=error.kind,
                                coupon_detail=error.reason)
        return OrderOutcome(order.order_id, "recorded", user_id, coupon="redeemed")
