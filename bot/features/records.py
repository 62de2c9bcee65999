"""Records the team looks up: ``/audit``, ``/member``, ``/export``."""

from bot.feature import Feature
from handlers import records

FEATURE = Feature(
    name="records",
    routers=(records.setup,),
    team_commands=("audit", "member", "export"),
)
