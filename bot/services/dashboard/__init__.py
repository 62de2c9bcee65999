"""What the operators' dashboard pages show, read from the same repositories and services the
chat commands use (no rule of their own): each query returns plain dataclasses.

- ``sources.py``: the funnel by member source and how many joiners stay active;
- ``members.py``: member search with filters; ``member_card.py``: the member card, its
  history and the manual tag edit;
- ``calendar.py``: the next days of SOP schedules with their content status;
- ``coupons.py``: campaign conversion by source;
- ``broadcasts.py``: broadcast history, live progress and A/B results;
- ``records.py``: the audit log, desk tickets and moderation actions;
- ``login.py``: ``/dashboard`` (the Mini App button and the one-time login link).
"""

from bot.services.dashboard.login import DashboardService

__all__ = ["DashboardService"]
