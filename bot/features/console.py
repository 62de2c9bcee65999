"""The team console of figures: ``/kpi``, the daily and weekly reports, the anomaly alerts."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.console import jobs
from handlers import kpi

FEATURE = Feature(
    name="console",
    routers=(kpi.setup,),
    team_commands=("kpi",),
    jobs=(Job("reports", jobs.run_reports, poll=jobs.REPORTS_POLL),),
)
