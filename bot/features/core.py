"""Core: the loop that forgets handled update ids (the routers of the frame, errors, team and
buttons, are put in place by ``handlers.setup``)."""

from bot.feature import Feature
from bot.housekeeping import HOUSEKEEPING_EVERY, forget_handled_updates
from bot.jobs import Job

FEATURE = Feature(
    name="core",
    jobs=(Job("housekeeping", forget_handled_updates, poll=HOUSEKEEPING_EVERY),),
)
