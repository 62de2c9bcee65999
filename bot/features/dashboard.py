"""The operators' dashboard (bot/dashboard/): ``/dashboard`` opens it from Telegram; the
server itself is started by the composition root when DASHBOARD_URL and DASHBOARD_LISTEN are
set."""

from bot.feature import Feature
from handlers import dashboard

FEATURE = Feature(
    name="dashboard",
    routers=(dashboard.setup,),
    team_commands=("dashboard",),
)
