"""Commerce: coupons (``/redeem``, ``/coupon``), orders, referrals (``/invite``)."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.commerce import jobs
from bot.services.commerce.referrals import CHECK_EVERY
from handlers import coupons, referrals

FEATURE = Feature(
    name="commerce",
    routers=(coupons.setup, referrals.setup),
    team_commands=("redeem", "coupon"),
    jobs=(Job("referrals", jobs.run_referrals, poll=CHECK_EVERY),),
)
