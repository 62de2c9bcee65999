"""Configuration: process settings from the environment and the operator's community YAML."""

from bot.config.community import (
    CommunityChat,
    CommunityConfig,
    CouponCampaign,
    FirstResponseConfig,
    HookConfig,
    ScheduleConfig,
    ScheduleKind,
    TeamConfig,
    WelcomeConfig,
)
from bot.config.durations import Duration, format_duration, parse_duration
from bot.config.loader import load_config, parse_config, read_config_text
from bot.config.settings import Settings
from bot.config.summary import describe

__all__ = [
    "CommunityChat",
    "CommunityConfig",
    "CouponCampaign",
    "Duration",
    "FirstResponseConfig",
    "HookConfig",
    "ScheduleConfig",
    "ScheduleKind",
    "Settings",
    "TeamConfig",
    "WelcomeConfig",
    "describe",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
    "read_config_text",
]
