"""A readable account of a loaded configuration, for ``sopbot check-config PATH``."""

from __future__ import annotations

from bot.config.community import CommunityConfig
from bot.config.durations import format_duration
from bot.config.growth import describe_growth
from bot.config.tags import describe_tags

__all__ = ["describe"]


def describe(config: CommunityConfig) -> str:
    """Several lines saying what the bot will do with this configuration."""
    team = config.team
    operators = _count(len(team.operators), "operator")
    team_chat = f"team chat {team.chat}" if team.chat is not None else "no team chat"
    lines = [
        f"timezone: {config.timezone}",
        f"default locale: {config.default_locale}",
        f"team: {operators}, {team_chat}",
        f"communities: {len(config.communities)}",
    ]
    for chat in config.communities:
        lines.append(f"  - {chat.chat_id}: {chat.title}")
        if chat.captcha is not None:
            lines.append(
                f"    join protection: a challenge answered within "
                f"{format_duration(chat.captcha.within)} (join requests by DM, plain joins "
                "restricted and asked in the group)"
                + (
                    ""
                    if str(chat.chat_id).startswith("-100")
                    else "; NEEDS a supergroup (a basic group's id has no -100: it cannot "
                    "restrict members)"
                )
            )
        rights = config.rights_needed(chat.chat_id)
        if rights:  # what `sopbot doctor` checks with Telegram
            lines.append("    admin rights needed: " + ", ".join(sorted(rights)))
    lines.append(_welcome(config))
    lines.append(f"first response: within {format_duration(config.first_response.within)}")
    lines.append(f"schedules: {len(config.schedules)}")
    for schedule in config.schedules:
        extra = "" if schedule.enabled else " (disabled)"
        target = f" to {schedule.target}" if schedule.target else ""
        lines.append(
            f"  - {schedule.id}: cron '{schedule.cron}' posts {schedule.template}{target}{extra}"
        )
    lines.append(f"hooks: {len(config.hooks)}")
    for hook in config.hooks:
        keywords = ", ".join(repr(keyword) for keyword in hook.keywords)
        where = "dm" if hook.coupon else hook.reply  # coupon codes only ever go by DM
        details = [f"reply in {where}", f"template {hook.template}"]
        if hook.tag:
            details.append(f"tag {hook.tag}")
        if hook.coupon:
            details.append(f"coupon {hook.coupon}")
        lines.append(f"  - {hook.id}: {keywords} -> {', '.join(details)}")
    lines.append(f"coupon campaigns: {len(config.coupons)}")
    for name, campaign in config.coupons.items():
        budget = f", budget {campaign.budget}" if campaign.budget is not None else ""
        budget += f", until {campaign.valid_until}" if campaign.valid_until else ""
        lines.append(
            f"  - {name}: {campaign.title}, {campaign.discount}, valid "
            f"{_count(campaign.valid_days, 'day')}, {campaign.per_member} per member"
            f"{budget}"
        )
    lines.append(_desk(config))
    lines += describe_growth(config.tiers, config.referral)
    lines += describe_tags(config.tags, config.segments, config.winback)
    return "\n".join(lines)


def _desk(config: CommunityConfig) -> str:
    service = config.service
    if not service.enabled:
        return "service desk: disabled"
    if config.team.chat is None:
        return (
            "service desk: NEEDS team.chat — members' private messages are answered from the "
            "FAQ only; nothing can reach a person until team.chat is set"
        )
    within = format_duration(service.within or config.first_response.within)
    hours = f", office hours {service.hours}" if service.hours else ", always open"
    return (
        f"service desk: private messages relayed to team chat {config.team.chat}, FAQ answers at "
        f"similarity ≥ {service.faq_threshold:g}, first response within {within}{hours}, "
        f"autoclose after {format_duration(service.autoclose)}"
    )


def _welcome(config: CommunityConfig) -> str:
    welcome = config.welcome
    if not welcome.enabled:
        return "welcome: disabled"
    gift = f"gift coupon {welcome.gift_coupon}" if welcome.gift_coupon else "no gift coupon"
    joins = (
        "join requests approved" if welcome.approve_join_requests else "join requests left alone"
    )
    return (
        f"welcome: greet within {format_duration(welcome.within)}, joiners batched per "
        f"{format_duration(welcome.group_batch)} (up to {welcome.max_mentions} mentions), "
        f"templates {welcome.template}/{welcome.dm_template}, {gift}, {joins}"
    )


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}" + ("" if amount == 1 else "s")
