"""Privacy and compliance (issue 15): the notice and consent, a member's rights in private
(``/privacy``, ``/mydata``, ``/forget``, ``/stop``, ``/start``), ``/member ID forget``, the
retention pass, the farewell of an erasure re-keyed once it went. Asked before the welcome
room: ``/start`` takes a member back into marketing DMs, then goes on to the welcome."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.privacy import jobs as privacy_jobs
from handlers import privacy

FEATURE = Feature(
    name="privacy",
    routers=(privacy.setup,),
    jobs=(
        Job("retention", privacy_jobs.run_retention, poll=privacy_jobs.RETENTION_POLL),
        Job("backups", privacy_jobs.run_backups, poll=privacy_jobs.BACKUP_POLL),
    ),
    delivery_hooks=(privacy_jobs.farewell_hook,),
)
