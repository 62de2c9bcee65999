"""Community order: rules, moderation (banned words and disguises, newcomers' links, warnings,
mutes, bans, report mode), members' /report, complaint and crisis alerts with claim and resolve,
the bot's rights."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.moderation import MODERATION_COMMANDS
from bot.services.moderation import jobs as moderation_jobs
from handlers import moderation

FEATURE = Feature(
    name="moderation",
    # first of the features' routers: a message being deleted goes no further
    routers=(moderation.setup,),
    team_commands=MODERATION_COMMANDS,
    jobs=(
        Job(
            "complaints",
            moderation_jobs.remind_complaints,
            poll=moderation_jobs.COMPLAINTS_POLL,
        ),
    ),
    delivery_hooks=(moderation_jobs.delivery_hook,),
)
