"""Members: their messages in the communities (counted, hooks, questions), lifecycle and
win-back, value tiers, tags and segments (``/tag``, ``/segment``), the member count."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.members import jobs
from handlers import activity, tags

FEATURE = Feature(
    name="members",
    routers=(tags.setup,),
    fallbacks=(activity.setup,),
    team_commands=("tag", "segment"),
    jobs=(
        Job("member counts", jobs.count_members, poll=jobs.MEMBER_COUNT_EVERY),
        Job("lifecycle", jobs.run_lifecycle, poll=jobs.LIFECYCLE_POLL),
        Job("value tiers", jobs.run_tiers, poll=jobs.TIERS_POLL),
    ),
)
