"""The daily SOP: schedules, the briefing and the Q&A, hooks, questions and the FAQ; operators
steering it (``/sop``, ``/brief``, ``/qa``)."""

from bot.feature import Feature
from bot.jobs import Job
from bot.services.sop import jobs
from handlers import sop_commands

FEATURE = Feature(
    name="sop",
    routers=(sop_commands.setup,),
    team_commands=("sop", "brief", "qa"),
    jobs=(
        Job(
            "sop",
            jobs.run_sop,
            poll=jobs.SOP_POLL,
            after_update=jobs.wake_by_question_deadline,
            on_reload=True,
        ),
    ),
)
