"""Every feature the bot has, in the order their routers are asked (``bot/feature.py`` says
what a declaration holds; docs/development.md how to add one)."""

from __future__ import annotations

from bot.feature import Feature
from bot.features import (
    broadcasts,
    commerce,
    console,
    core,
    dashboard,
    desk,
    members,
    moderation,
    privacy,
    records,
    sop,
    welcome,
)

FEATURES: tuple[Feature, ...] = (
    core.FEATURE,
    moderation.FEATURE,
    privacy.FEATURE,
    welcome.FEATURE,
    sop.FEATURE,
    members.FEATURE,
    broadcasts.FEATURE,
    commerce.FEATURE,
    console.FEATURE,
    records.FEATURE,
    desk.FEATURE,
    dashboard.FEATURE,
)
