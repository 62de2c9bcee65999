"""Every dashboard page, in the order of the navigation (``bot/dashboard/page.py`` says what
a page declares; /work/notes/dashboard-api.md how to add one)."""

from __future__ import annotations

from bot.dashboard.page import Page
from bot.dashboard.pages import (
    audit,
    broadcasts,
    calendar,
    coupons,
    desk,
    member,
    members,
    overview,
    sources,
)

PAGES: tuple[Page, ...] = (
    overview.PAGE,
    sources.PAGE,
    members.PAGE,
    member.PAGE,
    calendar.PAGE,
    coupons.PAGE,
    broadcasts.PAGE,
    audit.PAGE,
    desk.PAGE,
)
