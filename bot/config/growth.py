"""Config sections for value tiers (``tiers:``) and referrals (``referral:``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import Field, field_validator

from bot.config.durations import Duration, format_duration
from bot.config.fields import Int, Positive, Section, Text
from bot.config.sop import check_clock

__all__ = ["HighValueRule", "ReferralConfig", "TiersConfig", "describe_growth"]


class HighValueRule(Section):
    """``tier:high_value``: spend over ``spend_over`` within ``window``, or a repurchase rate
    (share of the window's 30-day periods with at least one order) over ``repurchase_rate_over``."""

    #: in the shop's main currency units (``1000`` or ``999.90``); orders are summed as reported
    spend_over: Decimal | None = Field(default=Decimal(1000), gt=0)
    repurchase_rate_over: float | None = Field(default=None, gt=0, lt=1)
    window: Duration = timedelta(days=365)


class TiersConfig(Section):
    """The daily value-tier pass: ``tier:high_value``, ``tier:potential``, ``tier:silent``."""

    enabled: bool = True
    high_value: HighValueRule = Field(default_factory=HighValueRule)
    #: potential: interacted within this and never bought or redeemed a coupon
    potential_within: Duration = timedelta(days=90)
    #: silent: no interaction for this long
    silent_after: Duration = timedelta(days=90)
    #: local time of the daily pass
    run_at: Text = "04:00"

    @field_validator("run_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        return check_clock(value, "run_at")


class ReferralConfig(Section):
    """``/invite`` links; both the referrer and the newcomer get ``coupon`` once the newcomer
    has stayed ``stay_days``."""

    coupon: Text
    stay_days: Positive = 7
    #: the community the links invite to (default: the first one listed)
    chat_id: Int | None = None
    enabled: bool = True


def describe_growth(tiers: TiersConfig, referral: ReferralConfig | None) -> list[str]:
    """Lines for ``sopbot check-config``."""
    rule = tiers.high_value
    tests = []
    if rule.spend_over is not None:
        tests.append(f"spend over {rule.spend_over}")
    if rule.repurchase_rate_over is not None:
        tests.append(f"repurchase rate over {rule.repurchase_rate_over:.0%}")
    window = format_duration(rule.window)
    lines = [
        f"value tiers: daily at {tiers.run_at}; high value: {' or '.join(tests) or 'never'} "
        f"within {window}; potential: active within {format_duration(tiers.potential_within)} "
        f"and never bought; silent after {format_duration(tiers.silent_after)}"
        if tiers.enabled
        else "value tiers: disabled"
    ]
    if referral is None or not referral.enabled:
        lines.append("referrals: off (/invite says so)")
    else:
        where = f" to {referral.chat_id}" if referral.chat_id is not None else ""
        lines.append(
            f"referrals: /invite links{where}; both get coupon {referral.coupon} after "
            f"{referral.stay_days} days"
        )
    return lines
