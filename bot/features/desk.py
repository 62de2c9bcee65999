"""The service desk: a member's private messages answered (FAQ at once, or a person through
the team chat), operators' replies copied back, the first-response clock, ratings."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.desk import jobs
from handlers import desk

FEATURE = Feature(
    name="desk",
    # before the team router: replies in the team chat may be answers to members
    routers=(desk.setup,),
    team_commands=("answer", "close", "tickets"),
    jobs=(
        Job("desk", jobs.run_desk, poll=jobs.DESK_POLL, after_update=jobs.wake_on_private),
        # the command menus: at start (without holding it up), on reloads, as the team changes
        Job("menus", jobs.publish_menus, poll=jobs.MENUS_POLL, on_reload=True),
    ),
    delivery_hooks=(jobs.delivery_hook,),
)
