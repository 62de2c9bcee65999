"""Complaint and crisis alerts: a community message with an ``alerts.keywords`` word, or a
member's ``/report``, reaches the team chat with a link to the message and claim / resolve
buttons. Complaints from several members within ``alerts.incident_window`` are one incident:
one alert, the later complaints counted into it. Unclaimed past half the level's time, the team
is told again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import ModAlert
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories.moderation import ModAlertRepository
from bot.services.dto import Person, message_link
from bot.services.messenger import Messenger
from bot.services.moderation.rules import CommunityOrder
from sop.moderation import ALERT_LEVELS

log = logging.getLogger(__name__)

CLAIM, RESOLVE = "modc", "modr"


def alert_buttons(alert_id: int, claim: str, resolve: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": claim, "callback_data": f"{CLAIM}:{alert_id}"},
                {"text": resolve, "callback_data": f"{RESOLVE}:{alert_id}"},
            ]
        ]
    }


def read_press(data: str) -> tuple[str, int] | None:
    """``"modc:12"`` → ``("claim", 12)``; ``None`` for anything else."""
    kind, _, rest = data.partition(":")
    if kind not in (CLAIM, RESOLVE) or not rest.isascii() or not rest.isdigit():
        return None
    return ("claim" if kind == CLAIM else "resolve"), int(rest)


class ComplaintService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        order: CommunityOrder,
        messenger: Messenger,
    ) -> None:
        self._config = config
        self._order = order
        self._messenger = messenger
        self._alerts = ModAlertRepository(session)

    def within(self, level: str) -> timedelta:
        cfg = self._config.alerts
        return {
            "complaint": cfg.complaint_within,
            "dispute": cfg.dispute_within,
            "incident": cfg.incident_within,
        }[level]

    async def on_message(
        self, chat_id: int, message_id: int, person: Person, text: str, now: datetime
    ) -> bool:
        """An alert when the text holds a complaint or crisis word; ``True`` when raised."""
        words = self._order.alert_words
        if words is None or self._config.team.chat is None:
            return False
        level = words.level(text)
        if level is None:
            return False
        return await self._raise(chat_id, message_id, person, level, "keyword", now)

    async def report(self, chat_id: int, message_id: int, reporter: Person, now: datetime) -> bool:
        """A member's ``/report`` of a message: the team is told once per message."""
        if self._config.team.chat is None:
            return False
        return await self._raise(chat_id, message_id, reporter, "complaint", "report", now)

    async def press(self, alert_id: int, action: str, operator: Person, now: datetime) -> str:
        """An operator pressed claim or resolve: ``claimed``, ``resolved``, ``taken`` (someone
        was first), ``done`` (resolved already) or ``unknown``."""
        alert = await self._alerts.get(alert_id)
        if alert is None:
            return "unknown"
        if action == "claim":
            if not await self._alerts.claim(alert_id, operator.id, now):
                return "done" if alert.resolved_at is not None else "taken"
            outcome = "claimed"
        else:
            if not await self._alerts.resolve(alert_id, operator.id, now):
                return "done"
            outcome = "resolved"
        team_chat = self._config.team.chat
        if team_chat is not None:
            await self._messenger.send(
                key=f"modalert:{outcome}:{alert_id}",
                chat_id=team_chat,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.ALERT,
                template="mod_alert_progress",
                locale=self._config.default_locale,
                context={
                    "outcome": outcome,
                    "name": operator.first_name,
                    "minutes": int((now - alert.at).total_seconds() // 60),
                    "link": message_link(alert.chat_id, alert.message_id),
                },
                now=now,
            )
        return outcome

    async def remind_due(self, now: datetime) -> datetime | None:
        """Alerts nobody claimed past half their level's time: the team is told again, once.
        Returns when to look again."""
        team_chat = self._config.team.chat
        if team_chat is None or not any(self._config.alerts.keywords.values()):
            return None
        for level in ALERT_LEVELS:
            half = self.within(level) / 2
            for alert in await self._alerts.unclaimed_before(level, now - half):
                await self._alerts.mark_reminded(alert.id, now)
                await self._messenger.send(
                    key=f"modalert:remind:{alert.id}",
                    chat_id=team_chat,
                    chat_kind=ChatKind.GROUP,
                    purpose=Purpose.ALERT,
                    template="mod_alert_reminder",
                    locale=self._config.default_locale,
                    context={
                        "level": level,
                        "minutes": int((now - alert.at).total_seconds() // 60),
                        "within": int(self.within(level).total_seconds() // 60),
                        "owners": self._owners(level),
                        "link": message_link(alert.chat_id, alert.message_id),
                    },
                    now=now,
                    reply_markup=self._buttons(alert.id),
                )
        return now + timedelta(minutes=5)

    # -- internals ----------------------------------------------------------------------------

    async def _raise(
        self,
        chat_id: int,
        message_id: int,
        person: Person,
        level: str,
        source: str,
        now: datetime,
    ) -> bool:
        team_chat = self._config.team.chat
        assert team_chat is not None
        alert_id = await self._alerts.add(
            chat_id=chat_id,
            message_id=message_id,
            user_id=person.id,
            level=level,
            source=source,
            at=now,
        )
        if alert_id is None:
            return False  # this message was alerted before (an edit, a second /report)
        community = self._config.community(chat_id)
        title = community.title if community else str(chat_id)
        if source == "keyword":
            recent = await self._alerts.recent(chat_id, now - self._config.alerts.incident_window)
            if await self._joined_incident(recent, alert_id, team_chat, title, now):
                return True
        await self._messenger.send(
            key=f"modalert:{alert_id}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.ALERT,
            template="mod_alert",
            locale=self._config.default_locale,
            context={
                "level": level,
                "source": source,
                "name": person.first_name,
                "user_id": person.id,
                "community": title,
                "link": message_link(chat_id, message_id),
                "within": int(self.within(level).total_seconds() // 60),
                "owners": self._owners(level),
            },
            now=now,
            reply_markup=self._buttons(alert_id),
        )
        log.info(
            "alert %d (%s, %s) raised for message %d in %d",
            alert_id,
            level,
            source,
            message_id,
            chat_id,
        )
        return True

    async def _joined_incident(
        self,
        recent: Sequence[ModAlert],
        alert_id: int,
        team_chat: int,
        title: str,
        now: datetime,
    ) -> bool:
        """Counts this complaint into an open incident, or opens one when enough members
        complained within the window; ``False`` when it stands alone."""
        heads = [a.incident_id for a in recent if a.incident_id is not None]
        if heads:
            await self._alerts.set_incident([alert_id], heads[0])
            return True
        members = {a.user_id for a in recent}
        if len(members) < self._config.alerts.incident_members:
            return False
        head = recent[0]
        await self._alerts.set_incident([a.id for a in recent], head.id)
        newest = recent[-1]
        await self._messenger.send(
            key=f"modalert:incident:{head.id}",
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.ALERT,
            template="mod_incident",
            locale=self._config.default_locale,
            context={
                "members": len(members),
                "complaints": len(recent),
                "minutes": int(self._config.alerts.incident_window.total_seconds() // 60),
                "community": title,
                "link": message_link(newest.chat_id, newest.message_id),
                "within": int(self.within("incident").total_seconds() // 60),
                "owners": self._owners("incident"),
            },
            now=now,
            reply_markup=self._buttons(head.id),
        )
        log.warning("incident %d: %d members complained in %s", head.id, len(members), title)
        return True

    def _owners(self, level: str) -> list[int]:
        roles: dict[str, list[int]] = getattr(self._config.team, "roles", {}) or {}
        return list(roles.get(level, []))

    def _buttons(self, alert_id: int) -> dict[str, Any]:
        locale = self._config.default_locale
        return alert_buttons(
            alert_id,
            self._messenger.label("mod_claim_button", locale, fallback="✋"),
            self._messenger.label("mod_resolve_button", locale, fallback="✅"),
        )
