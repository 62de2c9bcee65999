"""Commerce: coupons (issue, redeem, operators), orders from shops, referrals; the referral
loop."""
