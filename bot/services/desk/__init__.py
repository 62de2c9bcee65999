"""The member service desk: every private message of a member is a conversation (a ticket),
answered from the FAQ at once or relayed to the team chat and answered by an operator's reply.

- :mod:`.service` — the member's side: a message opens, reopens or adds to their ticket; FAQ,
  hooks, or a relay; "talk to a person"; ratings.
- :mod:`.team` — the operators' side: replies (and topic messages) to the member, ``/answer``,
  ``/close``, claims, ``/tickets``.
- :mod:`.routing` — where a relay goes in the team chat (a forum topic per member, or a
  header card) and within which budget.
- :mod:`.clock` — the first-response clock in office time, holding replies, reminders,
  autoclose: the desk's loop.
- :mod:`.delivery` — what a relay's or an answer's delivery means (recording relays, "not
  delivered", uncopyable messages).
- :mod:`.figures` — the desk's figures for ``/kpi``, the daily report and ``/export kpi``.
"""

from bot.services.desk.delivery import DeskDeliveryHook
from bot.services.desk.dto import MemberMessage, TeamMessage
from bot.services.desk.service import DeskService

__all__ = ["DeskDeliveryHook", "DeskService", "MemberMessage", "TeamMessage"]
