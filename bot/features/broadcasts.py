"""Broadcasts (``/broadcast``): segment, preview, send at the limits, progress, A/B."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.broadcasts import jobs
from handlers import broadcast

FEATURE = Feature(
    name="broadcasts",
    routers=(broadcast.setup,),
    team_commands=("broadcast",),
    jobs=(Job(jobs.PUMP, jobs.run_broadcasts, poll=jobs.BROADCAST_POLL),),
    delivery_hooks=(jobs.delivery_hook,),
)
