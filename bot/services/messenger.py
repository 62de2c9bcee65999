"""Renders a template and queues the message in the outbox: the only way sopbot speaks."""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models.outbox import DEFAULT_LANE, ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.repositories.files import OutboxFileRepository
from bot.errors import TemplateRenderError
from bot.rendering import MAX_LENGTH, Renderer
from bot.services.files import MAX_CAPTION, METHODS, FileKind, check_size, size_of, slices
from bot.services.privacy_gate import AGREE, PrivacyGate, Verdict, agree_button
from bot.telegram_html import visible_length

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """A Bot API call that is not a rendered message (approve a join request…)."""

    key: str
    chat_id: int
    chat_kind: ChatKind
    purpose: Purpose
    method: str
    payload: dict[str, Any]


def url_button(text: str, url: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": text, "url": url}]]}


class Messenger:
    def __init__(
        self,
        session: AsyncSession,
        renderer: Renderer,
        config: CommunityConfig,
        privacy_key: bytes | None = None,
    ) -> None:
        """``privacy_key``: the suppression list's key, for the gate to know an erased id (the
        messengers of delivery hooks, which only write to the team, go without)."""
        self._outbox = OutboxRepository(session)
        self._files = OutboxFileRepository(session)
        self._gate = PrivacyGate(session, config, privacy_key)
        self._renderer = renderer
        self._config = config

    @property
    def renderer(self) -> Renderer:
        return self._renderer

    async def send(
        self,
        *,
        key: str,
        chat_id: int,
        chat_kind: ChatKind,
        purpose: Purpose,
        template: str,
        locale: str,
        context: Mapping[str, Any],
        now: datetime,
        reply_markup: dict[str, Any] | None = None,
        reply_to: int | None = None,
        due_at: datetime | None = None,
        then: Call | None = None,
        lane: int = DEFAULT_LANE,
        extra: Mapping[str, Any] | None = None,
        ad: bool = False,
    ) -> int | None:
        """Queues ``template`` rendered for ``chat_id``; ``None`` when already queued under
        ``key`` or when the template failed (logged, and the team told once). ``extra``: more
        parameters of the call (``message_thread_id``) or ``_``-keys for delivery hooks.

        A private chat's DM passes the privacy gate (bot/services/privacy_gate.py): ``None``
        when it may not go to that member; held when it waits for their consent."""
        notice: str | None = None
        if chat_kind is ChatKind.PRIVATE:
            admission = await self._gate.admit(chat_id, purpose)
            if admission.verdict is Verdict.DROP:
                log.info("%s to %d not queued (privacy)", purpose, chat_id)
                return None
            due_at = admission.due_at or due_at
            if admission.verdict is Verdict.HOLD:
                await self._ask_consent(chat_id, locale, now)
            if admission.notice is not None:
                notice = self._notice(locale)
        try:
            text = self._renderer.render(template, locale, context)
        except TemplateRenderError as error:
            log.error("template %s (%s) failed for %s: %s", template, locale, purpose, error.reason)
            await self.notify_template_failure(error, now)
            return None
        if ad:  # a promotion: the ad label first (issue 15)
            text = f"{self.ad_label(locale)} {text}"
        if notice is not None and visible_length(text) + visible_length(notice) < MAX_LENGTH:
            text = f"{text}\n\n{notice}"
            assert admission.notice is not None
            await self._gate.shown(chat_id, admission.notice, now)
            if (
                admission.ask_consent
                and (reply_markup is None or "inline_keyboard" in reply_markup)
                and AGREE not in str(reply_markup)
            ):
                rows = list((reply_markup or {}).get("inline_keyboard", []))
                label = self.label("privacy_agree_button", locale, fallback="Agree")
                reply_markup = {"inline_keyboard": [*rows, agree_button(label, chat_id)]}
        payload: dict[str, Any] = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        if reply_to is not None:
            payload["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        if then is not None:  # made by the delivery loop once this message is settled
            payload["_then"] = asdict(then)
        payload["_template"] = template  # for the team notice should Telegram refuse it
        if extra:
            payload.update(extra)
        return await self._outbox.enqueue(
            key=key,
            chat_id=chat_id,
            chat_kind=chat_kind,
            purpose=purpose,
            payload=payload,
            now=now,
            due_at=due_at,
            lane=lane,
        )

    async def send_file(
        self,
        *,
        key: str,
        chat_id: int,
        chat_kind: ChatKind,
        purpose: Purpose,
        kind: FileKind,
        filename: str,
        now: datetime,
        data: bytes | None = None,
        path: Path | None = None,
        caption_template: str | None = None,
        locale: str | None = None,
        context: Mapping[str, Any] | None = None,
        reply_to: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        due_at: datetime | None = None,
    ) -> int | None:
        """Queues a document or photo (``data``, or the file at ``path``, copied now) with an
        optional caption rendered from ``caption_template``. The bytes are stored in the
        database in the same transaction as the outbox row, so a crash before delivery loses
        neither; they are dropped once the row is settled. Raises
        :class:`~bot.services.files.FileRejectedError` (too big for Telegram, empty) before
        queueing anything; ``None`` when already queued under ``key`` or the caption failed."""
        check_size(kind, size_of(data, path))
        if chat_kind is ChatKind.PRIVATE:
            admission = await self._gate.admit(chat_id, purpose)
            if admission.verdict is Verdict.DROP:
                return None
            due_at = admission.due_at or due_at
        payload: dict[str, Any] = {}
        if caption_template is not None:
            locale = locale or self._renderer.default_locale
            try:
                caption = self._renderer.render(caption_template, locale, context or {})
                if visible_length(caption) > MAX_CAPTION:
                    raise TemplateRenderError(
                        caption_template, f"a caption over {MAX_CAPTION} characters"
                    )
            except TemplateRenderError as error:
                log.error("caption %s failed for %s: %s", caption_template, purpose, error.reason)
                await self.notify_template_failure(error, now)
                return None
            payload.update(caption=caption, parse_mode="HTML")
            payload["_template"] = caption_template
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        if reply_to is not None:
            payload["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        ref = secrets.token_hex(16)
        payload["_file"] = {"ref": ref, "kind": kind, "filename": filename}
        row_id = await self._outbox.enqueue(
            key=key,
            chat_id=chat_id,
            chat_kind=chat_kind,
            purpose=purpose,
            payload=payload,
            now=now,
            due_at=due_at,
            method=METHODS[kind],
        )
        if row_id is not None:
            await self._files.store(
                ref=ref, outbox_id=row_id, filename=filename, slices=slices(data, path), now=now
            )
        return row_id

    async def _ask_consent(self, chat_id: int, locale: str, now: datetime) -> None:
        """A DM waits for the member's consent: they are asked (once per notice version)."""
        version = self._config.privacy.notice_version
        label = self.label("privacy_agree_button", locale, fallback="Agree")
        await self.send(
            key=f"privacy:consent:{chat_id}:v{version}",
            chat_id=chat_id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template="privacy_consent",
            locale=locale,
            context={},
            now=now,
            reply_markup={"inline_keyboard": [agree_button(label, chat_id)]},
        )

    def _notice(self, locale: str) -> str | None:
        try:
            return self._renderer.render("privacy_notice", locale, {})
        except TemplateRenderError as error:
            log.error("template privacy_notice failed: %s", error.reason)
            return None

    def ad_label(self, locale: str) -> str:
        """The label a promotion starts with (「广告」 / "Ad", the ``ad_label`` template)."""
        return self.label("ad_label", locale, fallback="[Ad]")

    def label(self, template: str, locale: str, *, fallback: str) -> str:
        """A short text (a button label); ``fallback`` when its template is broken."""
        try:
            return self._renderer.render(template, locale, {})
        except TemplateRenderError as error:
            log.error("label template %s failed: %s", template, error.reason)
            return fallback

    async def call(
        self, call: Call, now: datetime, *, lane: int = DEFAULT_LANE, due_at: datetime | None = None
    ) -> int | None:
        """Queues a Bot API call that is not a rendered message."""
        return await self._outbox.enqueue(
            lane=lane,
            due_at=due_at,
            key=call.key,
            chat_id=call.chat_id,
            chat_kind=call.chat_kind,
            purpose=call.purpose,
            payload=call.payload,
            now=now,
            method=call.method,
        )

    async def notify_template_failure(self, error: TemplateRenderError, now: datetime) -> None:
        team_chat = self._config.team.chat
        if team_chat is None:
            return
        # once per template and day: the team hears of it, the chat is not flooded
        day = now.astimezone(self._config.tz).date().isoformat()
        key = f"team:template-failed:{error.template}:{day}"
        text = (
            f"⚠️ Template <b>{html.escape(error.template)}</b> could not be used; "
            f"nothing was sent with it.\n<code>{html.escape(error.reason[:500])}</code>"
        )
        await self._outbox.enqueue(
            key=key,
            chat_id=team_chat,
            chat_kind=ChatKind.GROUP,
            purpose=Purpose.TEAM,
            payload={"text": text, "parse_mode": "HTML"},
            now=now,
        )
