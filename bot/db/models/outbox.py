"""Every outgoing Bot API call is a row here before it is made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK


class OutboxStatus(StrEnum):
    """``outbox.status``: pending → sending (leased) → sent | sent_unknown | failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    #: made, but Telegram's answer could not be read: settled as sent, with no message id
    SENT_UNKNOWN = "sent_unknown"
    FAILED = "failed"


class ChatKind(StrEnum):
    """``outbox.chat_kind``: which of Telegram's limits a call counts against."""

    PRIVATE = "private"
    #: groups and supergroups (20 messages a minute each)
    GROUP = "group"
    CHANNEL = "channel"
    #: a call that sends no message (approve a join request…): the global limit only
    API = "api"


#: the send lanes (``OutboxMessage.lane``): a lower lane is claimed and dispatched first. The
#: service lane carries the desk's relays and answers and other service replies (join checks,
#: /mycoupons), claimed even while a broadcast fills the delivery loop's batch; the default
#: lane everything else (broadcasts, win-back, greetings)
SERVICE_LANE = 0
DEFAULT_LANE = 1


class Purpose(StrEnum):
    """``outbox.purpose``: what a call is for (KPIs, reports and the delivery hooks read it)."""

    ALERT = "alert"
    APPROVE = "approve"
    BROADCAST = "broadcast"
    BROADCAST_PROGRESS = "broadcast_progress"
    #: join protection (bot/services/moderation/captcha.py): a DM challenge and its calls
    #: (restrict, decline, remove), and a group challenge (its joiners' time starts once sent)
    CAPTCHA = "captcha"
    CAPTCHA_GROUP = "captcha_group"
    #: /cleanup (bot/services/moderation/cleanup.py): a removal's ban and unban
    CLEANUP = "cleanup"
    COUPON_DM = "coupon_dm"
    EXPORT = "export"
    #: the service desk (bot/services/desk/): answers to members, relays and notes in the team chat
    DESK_ANSWER = "desk_answer"
    DESK_AUTO = "desk_auto"
    DESK_CARD = "desk_card"
    DESK_DIGEST = "desk_digest"
    DESK_FAQ = "desk_faq"
    DESK_NOTE = "desk_note"
    DESK_RATE = "desk_rate"
    DESK_RELAY = "desk_relay"
    DESK_REMINDER = "desk_reminder"
    DESK_TOPIC = "desk_topic"
    FAQ = "faq"
    HOOK = "hook"
    #: community order (bot/services/moderation/): deletions, restrictions, notices, rules
    MODERATION = "moderation"
    #: a short group notice of moderation that deletes itself once sent
    MOD_NOTICE = "mod-notice"
    #: the rules posted by /rules post: pinned once sent
    RULES_POST = "rules-pin"
    #: the privacy room (bot/services/privacy/): an erased member's forum topic renamed
    PRIVACY = "privacy"
    QA_REMINDER = "qa_reminder"
    REFERRAL_REWARD = "referral_reward"
    REPLY = "reply"
    REPORT = "report"
    #: a schedule's post, by its kind (``sop:<kind>``), or its DMs to a segment
    SOP_MESSAGE = "sop:message"
    SOP_BRIEFING = "sop:briefing"
    SOP_QA = "sop:qa"
    SOP_SEGMENT = "sop:segment"
    TEAM = "team"
    WELCOME_DM = "welcome_dm"
    WELCOME_GROUP = "welcome_group"
    WINBACK = "winback"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: unique per effect: the same effect queued twice is one row
    key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(index=True)
    #: a :class:`ChatKind`: which Telegram limit applies
    chat_kind: Mapped[str] = mapped_column(String(16))
    #: a :class:`Purpose`: what the message is for; KPIs and effects
    purpose: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(40), default="sendMessage")
    #: the send lane: 0 service (the desk's relays and answers) goes ahead of 1 (everything
    #: else: broadcasts, win-back...) when both are due
    lane: Mapped[int] = mapped_column(Integer, default=DEFAULT_LANE, server_default="1")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None]
