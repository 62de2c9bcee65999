"""The operators' dashboard (bot/dashboard/): ``/dashboard`` opens it from Telegram; the
server itself is started by the composition root when DASHBOARD_URL and DASHBOARD_LISTEN are
set; its loop keeps the snapshots operators look at (the sources funnel, campaign
conversion) up to date."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.dashboard import jobs
from handlers import dashboard

FEATURE = Feature(
    name="dashboard",
    routers=(dashboard.setup,),
    team_commands=("dashboard",),
    jobs=(Job("dashboard snapshots", jobs.refresh_snapshots, poll=jobs.SNAPSHOTS_POLL),),
)
