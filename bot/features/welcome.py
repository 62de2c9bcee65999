"""Welcome: arrivals (deep links, join requests, joins, leaves), the batched greeting, the gift
pack; a 403 marks the member unreachable (its delivery hook)."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.welcome import jobs
from handlers import members, start

FEATURE = Feature(
    name="welcome",
    routers=(start.setup, members.setup),
    jobs=(
        Job(
            "welcome",
            jobs.plan_greetings,
            poll=jobs.WELCOME_POLL,
            after_update=jobs.wake_on_join,
            on_reload=True,
            linger=jobs.JOIN_LINGER,
        ),
    ),
    delivery_hooks=(jobs.delivery_hook,),
)
