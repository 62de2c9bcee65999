"""The operator's community configuration (``community.yaml``) as frozen, validated models.

The keys are a contract with operators (see ``community.example.yaml``). Every section rejects
unknown keys, so a typo is reported instead of silently ignored. Checks that span sections
(coupon names, chat ids, hook keywords) live on :class:`CommunityConfig`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.config.broadcasts import BroadcastsConfig
from bot.config.durations import Duration
from bot.config.fields import CROSS_CHECK_ERROR, Int, Positive, Section, Text, fail
from bot.config.growth import ReferralConfig, TiersConfig
from bot.config.keys import Loc, dotted_key
from bot.config.moderation import CaptchaConfig, ModerationConfig, merged
from bot.config.privacy import BackupConfig, PrivacyConfig
from bot.config.reports import AlertsConfig, ReportsConfig
from bot.config.service import ServiceConfig
from bot.config.sop import FaqItem, SopConfig, check_clock
from bot.config.tags import (
    SegmentConfig,
    TagsConfig,
    WinbackConfig,
    segment_ref_problems,
    tag_problems,
)
from sop.keywords import normalize
from sop.triggers import CronError, CronTrigger

__all__ = [
    "CommunityChat",
    "CommunityConfig",
    "CouponCampaign",
    "FirstResponseConfig",
    "HookConfig",
    "ScheduleConfig",
    "TeamConfig",
    "WelcomeConfig",
]


class TeamConfig(Section):
    """Who runs the community: operator user ids and the team chat."""

    operators: frozenset[Positive] = frozenset()
    chat: Int | None = None
    #: named groups of operators (a role name -> their user ids): who owns VIP tickets, alerts
    roles: dict[Text, frozenset[Positive]] = Field(default_factory=dict)


class CommunityChat(Section):
    """A group or supergroup the bot runs SOPs in."""

    chat_id: Int
    title: Text
    #: this community's own moderation keys, over the top-level ``moderation``
    moderation: ModerationConfig | None = None
    #: the rules template of this community (``/rules``, ``/rules post``)
    rules: Text | None = None
    #: join protection (a challenge for every join request and plain join); off when absent
    captcha: CaptchaConfig | None = None

    @field_validator("chat_id")
    @classmethod
    def _is_group(cls, value: int) -> int:
        if value >= 0:
            raise fail(
                "chat_id", f"a group's chat id is negative, like -1001234567890 (got {value})"
            )
        return value


class WelcomeConfig(Section):
    """Greeting newcomers: the SLA, group batching and the DM gift pack."""

    within: Duration = timedelta(minutes=30)
    group_batch: Duration = Field(default=timedelta(minutes=2), validate_default=True)
    template: Text = "welcome"
    dm_template: Text = "welcome_dm"
    gift_coupon: Text | None = None
    approve_join_requests: bool = True
    max_mentions: Int = Field(default=50, ge=1, le=50)
    enabled: bool = True

    @field_validator("group_batch")
    @classmethod
    def _batch_inside_sla(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        within = info.data.get("within")
        if within is not None and value >= within:
            raise fail(
                "group_batch",
                "must be shorter than welcome.within, or greetings would miss the SLA",
            )
        return value


class FirstResponseConfig(Section):
    """The SLA for answering a member's question in a community."""

    within: Duration = timedelta(minutes=5)
    #: answered automatically when the SLA runs out and one matches; else escalated
    faq: list[FaqItem] = Field(default_factory=list)
    enabled: bool = True


class ScheduleKind(StrEnum):
    """What a schedule posts: its template as it is, the morning briefing, the evening Q&A."""

    MESSAGE = "message"
    BRIEFING = "briefing"
    QA = "qa"


class ScheduleConfig(Section):
    """A recurring community SOP: a template posted on a cron schedule."""

    id: Text
    cron: str
    template: Text
    target: Text | None = None
    enabled: bool = True
    #: briefing: today's content items, skipped without them; qa: topic + RSVP button and a DM
    #: reminder at ``starts_at``; message: the template as it is. Default: by the well-known
    #: ids morning_briefing and evening_qa, else message.
    kind: Literal["message", "briefing", "qa"] | None = None
    #: Q&A: when the session starts (local time); the reminder goes then. Default: fire time.
    starts_at: Text | None = None
    #: a promotion: its posts and DMs start with the ad label (``ad_label``)
    promotional: bool = False

    @field_validator("starts_at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        return None if value is None else check_clock(value, "starts_at")

    @property
    def effective_kind(self) -> ScheduleKind:
        if self.kind is not None:
            return ScheduleKind(self.kind)
        well_known = {"morning_briefing": ScheduleKind.BRIEFING, "evening_qa": ScheduleKind.QA}
        return well_known.get(self.id, ScheduleKind.MESSAGE)

    @field_validator("cron")
    @classmethod
    def _cron_syntax(cls, value: str) -> str:
        """Parsed by the engine's own trigger: one cron grammar for check-config and the run
        (the zone does not change what parses; whether it ever fires is checked later)."""
        cron = " ".join(value.split())
        try:
            CronTrigger(cron, ZoneInfo("UTC"))
        except CronError as exc:
            raise fail("cron", str(exc)) from None
        return cron


class HookConfig(Section):
    """A keyword hook: a member's message containing a keyword gets a templated answer."""

    #: also the deep link ``?start=hook-<id>``: Telegram allows A-Z a-z 0-9 _ - there
    id: Annotated[Text, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
    keywords: list[Text] = Field(min_length=1)
    template: Text
    tag: Text | None = None
    reply: Literal["group", "dm"] = "group"
    coupon: Text | None = None
    once_per_member: bool = True


class CouponCampaign(Section):
    """A coupon campaign members can be issued codes from."""

    title: Text
    discount: Text
    valid_days: Positive
    per_member: Positive = 1
    budget: Positive | None = None
    #: last day (local) a code of this campaign is valid, whatever valid_days says; no codes
    #: are issued after it
    valid_until: date | None = None


class CommunityConfig(Section):
    """The whole ``community.yaml``."""

    timezone: str
    default_locale: Text = "zh"
    team: TeamConfig = Field(default_factory=TeamConfig)
    communities: list[CommunityChat] = Field(min_length=1)
    welcome: WelcomeConfig
    first_response: FirstResponseConfig = Field(default_factory=FirstResponseConfig)
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    hooks: list[HookConfig] = Field(default_factory=list)
    coupons: dict[Text, CouponCampaign] = Field(default_factory=dict)
    sop: SopConfig = Field(default_factory=SopConfig)
    tiers: TiersConfig = Field(default_factory=TiersConfig)
    referral: ReferralConfig | None = None
    tags: TagsConfig = Field(default_factory=TagsConfig)
    segments: dict[Text, SegmentConfig] = Field(default_factory=dict)
    winback: WinbackConfig | None = None
    broadcasts: BroadcastsConfig = Field(default_factory=BroadcastsConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    #: community order (issue 13); a community may override it
    moderation: ModerationConfig | None = None
    #: notice, consent, opt-outs, retention, the copy review (issue 15)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    #: the daily SQLite backup and its rotation (issue 15)
    backup: BackupConfig = Field(default_factory=BackupConfig)
    #: a folder of the operator's own templates (``<locale>/…/<name>.html.j2``), relative to
    #: this file; a template there replaces the built-in one of the same name
    templates: Text | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise fail(
                "timezone", f"unknown time zone {value!r}; use a name like Asia/Shanghai or UTC"
            ) from None
        return value

    @model_validator(mode="after")
    def _cross_check(self) -> CommunityConfig:
        problems = _cross_problems(self)
        if problems:
            summary = "; ".join(f"{dotted_key(loc)}: {message}" for loc, message in problems)
            raise PydanticCustomError(
                CROSS_CHECK_ERROR, "{summary}", {"summary": summary, "problems": tuple(problems)}
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def community_ids(self) -> frozenset[int]:
        """Chat ids of every managed community."""
        return frozenset(chat.chat_id for chat in self.communities)

    def community(self, chat_id: int) -> CommunityChat | None:
        """The community with this chat id, or ``None`` when the chat is not managed."""
        return next((chat for chat in self.communities if chat.chat_id == chat_id), None)

    def is_community(self, chat_id: int) -> bool:
        """Whether the bot runs SOPs in this chat."""
        return self.community(chat_id) is not None

    def moderation_for(self, chat_id: int) -> ModerationConfig | None:
        """The moderation of a community (its own keys over the top-level ones); ``None``
        when neither is configured."""
        chat = self.community(chat_id)
        return None if chat is None else merged(self.moderation, chat.moderation)

    def captcha_for(self, chat_id: int) -> CaptchaConfig | None:
        """The join protection of a community; ``None`` when it has none."""
        chat = self.community(chat_id)
        return None if chat is None else chat.captcha

    def rights_needed(self, chat_id: int) -> dict[str, str]:
        """The administrator rights the config needs in a community, each with what needs it."""
        chat = self.community(chat_id)
        if chat is None:
            return {}
        rights: dict[str, list[str]] = {}

        def need(right: str, why: str) -> None:
            rights.setdefault(right, []).append(why)

        if self.moderation_for(chat_id) is not None:
            need("can_delete_messages", "moderation deletes messages")
            need("can_restrict_members", "moderation mutes and bans")
        if chat.captcha is not None:
            need("can_restrict_members", "join protection restricts joiners")
            need("can_invite_users", "join protection approves and declines join requests")
        if self.welcome.approve_join_requests:
            need("can_invite_users", "welcome approves join requests")
        if chat.rules is not None:
            need("can_pin_messages", "/rules post pins the rules")
        referral = self.referral
        if referral is not None and (referral.chat_id or self.communities[0].chat_id) == chat_id:
            need("can_invite_users", "/invite makes invite links")
        return {right: ", ".join(whys) for right, whys in rights.items()}

    @property
    def guards_joins(self) -> bool:
        """Some community has join protection (its figures belong in ``/kpi``)."""
        return any(c.captcha is not None for c in self.communities)

    @property
    def watches_messages(self) -> bool:
        """Moderation or complaint words are configured: edits are asked for too."""
        return (
            self.moderation is not None
            or any(c.moderation is not None for c in self.communities)
            or bool(self.alerts.keywords)
        )


def _cross_problems(config: CommunityConfig) -> list[tuple[Loc, str]]:
    """Every inconsistency between sections, each with the ``loc`` of the key to fix."""
    problems: list[tuple[Loc, str]] = []
    seen_chats: dict[int, int] = {}
    for index, chat in enumerate(config.communities):
        if chat.chat_id in seen_chats:
            problems.append(
                (
                    ("communities", index, "chat_id"),
                    f"chat {chat.chat_id} is already listed as "
                    f"communities[{seen_chats[chat.chat_id]}]",
                )
            )
        seen_chats.setdefault(chat.chat_id, index)
    if config.team.chat is not None and config.team.chat in seen_chats:
        problems.append(
            (
                ("team", "chat"),
                f"the team chat {config.team.chat} is also a community; "
                "use a separate chat for the team",
            )
        )
    problems += _service_problems(config)
    problems += _duplicate_ids("schedules", [schedule.id for schedule in config.schedules])
    problems += _schedule_problems(config)
    problems += _duplicate_ids("hooks", [hook.id for hook in config.hooks])
    problems += _keyword_collisions(config.hooks)
    problems += tag_problems(
        config.tags,
        config.segments,
        config.winback,
        hook_tags=[h.tag for h in config.hooks if h.tag],
        coupons=list(config.coupons),
    )
    coupon_refs: list[tuple[Loc, str | None]] = [
        (("welcome", "gift_coupon"), config.welcome.gift_coupon)
    ]
    coupon_refs += [
        (("hooks", index, "coupon"), hook.coupon) for index, hook in enumerate(config.hooks)
    ]
    if config.referral is not None:
        coupon_refs.append((("referral", "coupon"), config.referral.coupon))
        if config.referral.chat_id is not None and config.referral.chat_id not in seen_chats:
            problems.append(
                (
                    ("referral", "chat_id"),
                    f"chat {config.referral.chat_id} is not one of the communities",
                )
            )
    for loc, name in coupon_refs:
        if name is not None and name not in config.coupons:
            known = ", ".join(sorted(config.coupons)) or "none are defined"
            problems.append(
                (loc, f"no coupon campaign named {name!r} under coupons (known: {known})")
            )
    return problems


def _service_problems(config: CommunityConfig) -> list[tuple[Loc, str]]:
    """``service.vip`` names roles of ``team.roles``."""
    problems: list[tuple[Loc, str]] = []
    for tag, role in config.service.vip.items():
        if role not in config.team.roles:
            known = ", ".join(sorted(config.team.roles)) or "none are defined"
            problems.append(
                (
                    ("service", "vip", tag),
                    f"no role named {role!r} under team.roles (known: {known})",
                )
            )
    for role, members in config.team.roles.items():
        if not members:
            problems.append((("team", "roles", role), "a role needs at least one operator id"))
    return problems


def _duplicate_ids(section: str, ids: list[str]) -> list[tuple[Loc, str]]:
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, item_id in enumerate(ids):
        if item_id in first:
            problems.append(
                (
                    (section, index, "id"),
                    f"id {item_id!r} is already used by {section}[{first[item_id]}]",
                )
            )
        first.setdefault(item_id, index)
    return problems


def _keyword_collisions(hooks: list[HookConfig]) -> list[tuple[Loc, str]]:
    owner: dict[str, str] = {}
    problems: list[tuple[Loc, str]] = []
    for index, hook in enumerate(hooks):
        for position, keyword in enumerate(hook.keywords):
            folded = " ".join(normalize(keyword).split())  # as the matcher sees it
            other = owner.get(folded)
            if other is not None and other != hook.id:
                problems.append(
                    (
                        ("hooks", index, "keywords", position),
                        f"keyword {keyword!r} is used by both hook {other!r} and hook {hook.id!r}",
                    )
                )
            owner.setdefault(folded, hook.id)
    return problems


#: any instant serves: a cron has no year, it repeats or it never fires
_CRON_REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)


def _schedule_problems(config: CommunityConfig) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for index, schedule in enumerate(config.schedules):
        if CronTrigger(schedule.cron, config.tz).never_fires(_CRON_REFERENCE):
            problems.append(
                (("schedules", index, "cron"), f"{schedule.cron!r} never fires (no such date)")
            )
        if schedule.target is not None:
            problems += segment_ref_problems(
                ("schedules", index, "target"), schedule.target, config.segments
            )
            if schedule.effective_kind != ScheduleKind.MESSAGE:
                problems.append(
                    (
                        ("schedules", index, "target"),
                        "only message schedules can target a segment (a briefing or "
                        "Q&A goes to the communities)",
                    )
                )
    return problems
