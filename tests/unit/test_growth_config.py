"""The tiers: and referral: sections as check-config describes them."""

from __future__ import annotations

from bot.config import describe, parse_config
from tests.conftest import CONFIG_YAML


def test_check_config_describes_tiers_referrals_and_campaign_ends() -> None:
    config = parse_config(
        CONFIG_YAML
        + """
  friend: {title: Friends, discount: "50", valid_days: 30, valid_until: 2026-12-31}
tiers:
  high_value: {spend_over: 500, repurchase_rate_over: 0.5, window: 180d}
referral: {coupon: friend, stay_days: 3}
""",
        "t",
    )
    text = describe(config)
    assert "friend: Friends, 50, valid 30 days, 1 per member, until 2026-12-31" in text
    assert "high value: spend over 500 or repurchase rate over 50% within 180d" in text
    assert "referrals: /invite links; both get coupon friend after 3 days" in text
    assert "referrals: off" in describe(parse_config(CONFIG_YAML, "t"))
