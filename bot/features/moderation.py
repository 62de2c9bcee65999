"""Community order: rules, moderation (banned words and disguises, newcomers' links, warnings,
mutes, bans, report mode), members' /report, complaint and crisis alerts with claim and resolve,
the bot's rights, join protection (captcha), /cleanup of silent members."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.moderation import MODERATION_COMMANDS
from bot.services.moderation import jobs as moderation_jobs
from handlers import captcha, cleanup, moderation

FEATURE = Feature(
    name="moderation",
    # first of the features' routers: a message being deleted goes no further
    routers=(moderation.setup, captcha.setup, cleanup.setup),
    team_commands=MODERATION_COMMANDS,
    jobs=(
        Job(
            "complaints",
            moderation_jobs.remind_complaints,
            poll=moderation_jobs.COMPLAINTS_POLL,
        ),
        Job(
            "captcha",
            moderation_jobs.run_captcha,
            poll=moderation_jobs.CAPTCHA_POLL,
            after_update=moderation_jobs.wake_on_join,
            on_reload=True,
        ),
    ),
    delivery_hooks=(
        moderation_jobs.delivery_hook,
        moderation_jobs.captcha_hook,
        moderation_jobs.cleanup_hook,
    ),
)
