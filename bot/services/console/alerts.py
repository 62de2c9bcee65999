"""Anomaly alerts to the team chat: a day-on-day fall of joins or active members, a delivery
failure rate over the threshold, a stuck broadcast. Each condition is one message while it
lasts (an alert-state row per condition), not a storm. A failing template already has its own
notice, once per template and day (bot/services/messenger.py): not repeated here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories.broadcasts import BroadcastRepository
from bot.db.repositories.kpi import KpiRepository
from bot.db.repositories.reports import AlertRepository
from bot.services.messenger import Messenger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    context: dict[str, Any]


class AlertService:
    def __init__(
        self, session: AsyncSession, config: CommunityConfig, messenger: Messenger
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._states = AlertRepository(session)
        self._kpi = KpiRepository(session)

    async def check(self, now: datetime) -> datetime | None:
        """Raises what is new, clears what is over; returns when to look again."""
        cfg = self._config.alerts
        if not cfg.enabled or self._config.team.chat is None:
            return None
        found = [*await self._drops(now), *await self._delivery(now), *await self._stuck(now)]
        for alert in found:
            if await self._states.raise_(alert.key, alert.kind, now, cfg.repeat_after):
                await self._messenger.send(
                    key=f"alert:{alert.key}:{now.isoformat()}"[:200],
                    chat_id=self._config.team.chat,
                    chat_kind=ChatKind.GROUP,
                    purpose=Purpose.ALERT,
                    template="alert",
                    locale=self._config.default_locale,
                    context={"alert": alert.kind, **alert.context},
                    now=now,
                )
                log.warning("alert %s raised", alert.key)
        current = {alert.key for alert in found}
        for kind in ("drop", "delivery", "stuck"):
            for key in await self._states.active(kind):
                if key not in current:
                    await self._states.clear(key, now)
        return now + cfg.check_every

    async def _drops(self, now: datetime) -> list[Alert]:
        """The last whole day against the day before it, per community."""
        cfg = self._config.alerts
        day = now.astimezone(self._config.tz).date() - timedelta(days=1)
        before = day - timedelta(days=1)
        communities = {c.chat_id: c.title for c in self._config.communities}
        rollups = {
            (r.chat_id, r.day): r for r in await self._kpi.rollups(list(communities), before, day)
        }
        alerts = []
        for chat_id, title in communities.items():
            for metric in ("joins", "active_members"):
                base = (
                    getattr(rollups[(chat_id, before)], metric)
                    if (chat_id, before) in rollups
                    else 0
                )
                value = getattr(rollups[(chat_id, day)], metric) if (chat_id, day) in rollups else 0
                if base >= cfg.drop_min_base and value < base * (1 - cfg.drop):
                    alerts.append(
                        Alert(
                            f"drop:{metric}:{chat_id}:{day.isoformat()}",
                            "drop",
                            {
                                "metric": metric,
                                "title": title,
                                "day": day,
                                "value": value,
                                "base": base,
                                "fall": (base - value) / base,
                            },
                        )
                    )
        return alerts

    async def _delivery(self, now: datetime) -> list[Alert]:
        cfg = self._config.alerts
        sent, failed = await self._kpi.deliveries(now - cfg.delivery_window, now)
        settled = sent + failed
        if settled < cfg.delivery_min or failed / settled <= cfg.delivery_failure_rate:
            return []
        return [
            Alert(
                "delivery",
                "delivery",
                {
                    "failed": failed,
                    "settled": settled,
                    "rate": failed / settled,
                    "threshold": cfg.delivery_failure_rate,
                    "window": int(cfg.delivery_window.total_seconds() // 60),
                },
            )
        ]

    async def _stuck(self, now: datetime) -> list[Alert]:
        older_than = self._config.alerts.broadcast_stuck
        stuck = await BroadcastRepository(self._session).stuck(now, older_than)
        return [
            Alert(
                f"stuck:{b.id}",
                "stuck",
                {
                    "broadcast": b.id,
                    "segment": b.segment,
                    "sent": b.sent,
                    "audience": b.audience,
                    "minutes": int(older_than.total_seconds() // 60),
                },
            )
            for b in stuck
        ]
