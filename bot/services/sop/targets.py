"""A schedule aimed at a segment (``schedules[].target``): its template by DM to each of the
segment's reachable members, through the outbox, once per member per fire.

The template is rendered once per locale (the context is the same for everyone) and the rows
are written by one ``INSERT … SELECT`` per locale: the segment is never loaded into Python,
whatever its size.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.outbox import Purpose
from bot.db.repositories.lifecycle import LifecycleRepository
from bot.db.repositories.privacy import marketing_allowed
from bot.errors import TemplateRenderError
from bot.services.members.segments import SegmentService, reachable
from bot.services.messenger import Messenger
from sop.engine import SopEngine

log = logging.getLogger(__name__)


def speaks(locale: str) -> ColumnElement[bool]:
    """The member's Telegram language maps to ``locale`` (``zh``, ``zh-hans``, ``zh_CN``)."""
    code = func.lower(func.coalesce(Member.language_code, ""))
    return or_(code == locale, code.like(f"{locale}-%"), code.like(f"{locale}\\_%", escape="\\"))


class TargetedSend:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
    ) -> None:
        self._engine = engine
        self._config = config
        self._messenger = messenger
        self._segments = SegmentService(session, config)
        self._outbox = LifecycleRepository(session)

    async def send(
        self,
        *,
        schedule_id: str,
        target: str,
        template: str,
        fire_at: datetime,
        context: dict[str, Any],
        now: datetime,
        ad: bool = False,
    ) -> int | None:
        """Queues the DMs; how many were queued now, or ``None`` when the template failed
        (logged, the team told). ``ad``: a promotion, each DM starts with the ad label."""
        renderer = self._messenger.renderer
        members = select(Member.user_id).where(
            reachable(),
            Member.user_id.in_(self._segments.user_ids(target, now)),
            # marketing: not to members who sent /stop, were erased or have not agreed
            marketing_allowed(self._config.privacy.require_consent),
        )
        default = renderer.default_locale
        others = sorted(locale for locale in renderer.locales if locale != default)
        queued = 0
        for locale in [default, *others]:
            try:
                text = renderer.render(template, locale, context)
            except TemplateRenderError as error:
                log.error(
                    "template %s (%s) failed for schedule %s: %s",
                    template,
                    locale,
                    schedule_id,
                    error.reason,
                )
                await self._messenger.notify_template_failure(error, now)
                return None
            if ad:
                text = f"{self._messenger.ad_label(locale)} {text}"
            who = (
                speaks(locale)
                if locale != default
                else ~or_(*(speaks(other) for other in others))
                if others
                else None
            )
            payload = {
                "text": text,
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
                "_template": template,
            }
            queued += await self._outbox.enqueue_private(
                members if who is None else members.where(who),
                key_prefix=f"sop:{schedule_id}:{int(fire_at.timestamp())}:dm:",
                purpose=Purpose.SOP_SEGMENT,
                payload=payload,
                now=now,
                due_at=self._engine.dm_time(now),
            )
        return queued
