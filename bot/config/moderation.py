"""Config section ``moderation:`` (top level, and per community under ``communities[]``) and the
complaint words of ``alerts.keywords``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from bot.config.durations import Duration
from bot.config.fields import Int, Section, Text, fail
from sop.moderation import ALERT_LEVELS

AlertLevel = Literal["complaint", "dispute", "incident"]


def _levels(value: Any) -> Any:
    """A plain list is the level ``complaint``; a mapping names its levels."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {"complaint": value}
    if isinstance(value, dict):
        unknown = [k for k in value if k not in ALERT_LEVELS]
        if unknown:
            raise fail(
                "alert_level",
                f"unknown level {unknown[0]!r}; the levels are {', '.join(ALERT_LEVELS)}",
            )
    return value


AlertKeywords = Annotated[dict[AlertLevel, list[Text]], BeforeValidator(_levels)]


class ModerationConfig(Section):
    """What is deleted in a community, and what follows for the sender. Non-operators only;
    group administrators, anonymous admins and the linked channel are never touched."""

    #: ``enforce`` deletes and acts; ``report`` only tells the team what would have been done
    mode: Literal["enforce", "report"] = "enforce"
    #: matched as hook keywords are, and through their usual disguises
    banned_words: list[Text] = Field(default_factory=list)
    #: contact details (a WeChat id, a QQ or phone number) after a trigger word
    contacts: bool = True
    #: more trigger words for ``contacts`` (微信, QQ, 电话, whatsapp… are built in)
    contact_triggers: list[Text] = Field(default_factory=list)
    #: links (and forwards from chats) from members who joined less than this long ago
    newcomer_links: Duration | None = None
    #: each deletion is also a warning; warnings older than ``warnings_expire`` do not count
    warn: bool = True
    warnings_expire: Duration = timedelta(days=30)
    #: muted (``restrictChatMember``) for ``mute_for`` at this many warnings; 0: never
    mute_after: Int = Field(default=3, ge=0)
    mute_for: Duration = timedelta(days=1)
    #: banned at this many warnings; 0: never
    ban_after: Int = Field(default=5, ge=0)
    #: the member is told why, once per rule (by DM when reachable, else a notice in the group
    #: that deletes itself after ``notice_lasts``)
    tell_member: bool = True
    notice_lasts: Duration = timedelta(seconds=60)


def merged(top: ModerationConfig | None, own: ModerationConfig | None) -> ModerationConfig | None:
    """A community's moderation: its own keys over the top-level ones."""
    if own is None:
        return top
    if top is None:
        return own
    return top.model_copy(update={key: getattr(own, key) for key in own.model_fields_set})
