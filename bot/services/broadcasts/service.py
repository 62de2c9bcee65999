"""Segmented broadcasts: a draft with a preview, Send (recipients materialised, handed to the
outbox a backlog at a time), Cancel, progress edited in place, a final tally, the A/B report.

Nothing reaches a member before Send. Each member's copy is one outbox row under the key
``bc:<id>:<user>``, queued in the same transaction that marks the recipient queued: a crash
resumes where it stopped, with no copy twice and none missing.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models.broadcast import Broadcast, BroadcastStatus, RecipientStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.repositories.broadcasts import BroadcastRepository, Chunk, Tally, card_key
from bot.db.repositories.privacy import PrivacyRepository, marketing_allowed
from bot.errors import TemplateRenderError
from bot.services.broadcasts.view import cancel_button, preview_buttons, progress_context
from bot.services.dto import MessageRef, Origin, Person
from bot.services.members.segments import SegmentError, SegmentService
from bot.services.messenger import Call, Messenger
from sop.engine import SopEngine
from sop.review import CopyReview, Findings

log = logging.getLogger(__name__)

#: how often a running broadcast is looked at (refill, progress)
STEP = timedelta(seconds=1)

#: a reply to give the operator: template name and context
Answer = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Content:
    """What a variant sends: a message to copy, or a template name."""

    chat_id: int | None = None
    message_id: int | None = None
    template: str | None = None
    #: the copied message's text or caption, for the copy review (never stored)
    text: str | None = None


class BroadcastService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        segments: SegmentService,
        engine: SopEngine,
    ) -> None:
        self._repo = BroadcastRepository(session)
        self._privacy = PrivacyRepository(session)
        self._outbox = OutboxRepository(session)
        self._config = config
        self._messenger = messenger
        self._segments = segments
        self._engine = engine

    @property
    def repository(self) -> BroadcastRepository:
        return self._repo

    # -- drafts ---------------------------------------------------------------------------------
    async def prepare(
        self,
        origin: Origin,
        person: Person,
        segment: str,
        content: Content,
        now: datetime,
        *,
        ab: bool = False,
        content_b: Content | None = None,
        promotional: bool = False,
    ) -> Answer | None:
        """A draft and its preview: the content as members will get it, the audience, and
        Send / Cancel (for A/B without variant B yet: how to add it). Returns the answer to
        give instead when there is nothing to preview (unknown segment or template)."""
        locale = self._locale(person)
        try:
            segment_ids = self._audience(segment, now)
        except SegmentError:
            return "broadcast_unknown_segment", {
                "segment": segment[:64],
                "known": self._segments.names(),
            }
        for variant in (content, content_b):
            if (
                variant is not None
                and variant.template is not None
                and not self._messenger.renderer.has(variant.template)
            ):
                return "broadcast_unknown_template", {"template": variant.template[:64]}
        audience = await self._repo.audience(segment_ids)
        broadcast = await self._repo.create(
            segment=segment,
            created_by=person.id,
            chat_id=origin.chat_id,
            chat_kind=origin.chat_kind,
            locale=locale,
            source_chat_id=content.chat_id,
            source_message_id=content.message_id,
            template=content.template,
            created_at=now,
        )
        broadcast.promotional = promotional
        if ab:
            broadcast.ab, broadcast.seed = True, secrets.randbits(31)
        if content_b is not None:
            broadcast.b_template = content_b.template
        for name, shown in (("a", content), ("b", content_b)):
            failure = (
                None if shown is None else await self._preview(broadcast, name, shown, person, now)
            )
            if failure is not None:
                broadcast.status, broadcast.finished_at = BroadcastStatus.CANCELLED, now
                return failure
        if ab and content_b is None:
            await self._card(
                broadcast,
                "broadcast_ab_wait",
                {"audience": audience},
                now,
                "a",
                buttons=cancel_button(self._messenger, broadcast),
            )
            return None
        findings = self._review(broadcast, person, content, content_b)
        unlabelled = promotional and self._unlabelled(content, content_b)
        broadcast.review = "block" if unlabelled else findings.level
        await self._card(
            broadcast,
            "broadcast_preview",
            {
                "audience": audience,
                "review_warn": findings.warn,
                "review_block": findings.block,
                "promotional": promotional,
                "unlabelled": unlabelled,
            },
            now,
            "ready",
            buttons=(
                cancel_button(self._messenger, broadcast)
                if broadcast.review == "block"
                else preview_buttons(self._messenger, broadcast)
            ),
        )
        return None

    def _unlabelled(self, *contents: Content | None) -> bool:
        """A promotion copied from a message without the ad label: Telegram's copyMessage
        keeps a text message's text (its ``caption`` parameter is for media only), so the bot
        cannot add the label; the draft is refused (Cancel only) until the operator writes the
        label into the message or sends a template, whose copies the bot labels."""
        return any(c is not None and c.template is None and not self._labelled(c) for c in contents)

    def _labelled(self, content: Content) -> bool:
        """Whether a copied message carries the ad label of some locale (「广告」 / "Ad")."""
        text = content.text or ""
        for locale in self._messenger.renderer.locales:
            word = re.sub(r"<[^>]+>", "", self._messenger.ad_label(locale)).strip("[]【】 ")
            # a word of its own: "Ad" is not found in "Add to cart"
            whole = rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])"
            if word and re.search(whole, text, re.IGNORECASE):
                return True
        return False

    def _review(self, broadcast: Broadcast, person: Person, *contents: Content | None) -> Findings:
        """The copy review of what the variants send (a template as rendered for the
        operator; a copied message by its text or caption)."""
        privacy = self._config.privacy
        texts: list[str | None] = []
        for content in contents:
            if content is None:
                continue
            if content.template is None:
                texts.append(content.text)
                continue
            try:
                texts.append(
                    self._messenger.renderer.render(
                        content.template, broadcast.locale, {"first_name": person.first_name}
                    )
                )
            except TemplateRenderError:
                continue  # the preview already said so
        return CopyReview(privacy.review_words, privacy.review_block).check(*texts)

    async def add_variant_b(
        self, origin: Origin, person: Person, content: Content, now: datetime
    ) -> Answer | None:
        """``/broadcast variant b``: variant B of the operator's open A/B draft here."""
        broadcast = await self._repo.open_ab_draft(origin.chat_id, person.id)
        if broadcast is None or broadcast.b_source_message_id or broadcast.b_template:
            return "broadcast_no_ab_draft", {}
        if content.template is not None and not self._messenger.renderer.has(content.template):
            return "broadcast_unknown_template", {"template": content.template[:64]}
        if (content.message_id is None) != (
            broadcast.source_message_id is None
        ) or content.chat_id not in (None, broadcast.source_chat_id):
            return "broadcast_variant_mismatch", {}
        broadcast.b_source_message_id, broadcast.b_template = content.message_id, content.template
        try:
            audience = await self._repo.audience(self._audience(broadcast.segment, now))
        except SegmentError:
            audience = 0
        failure = await self._preview(broadcast, "b", content, person, now)
        if failure is not None:
            broadcast.b_source_message_id = broadcast.b_template = None
            return failure
        findings = self._review(broadcast, person, content)
        unlabelled = broadcast.promotional and self._unlabelled(content)
        if broadcast.review == "block" or findings.block or unlabelled:
            broadcast.review = "block"
        elif broadcast.review == "warn" or findings.warn:
            broadcast.review = "warn"
        await self._card(
            broadcast,
            "broadcast_preview",
            {
                "audience": audience,
                "review_warn": findings.warn,
                "review_block": findings.block,
                "promotional": broadcast.promotional,
                "unlabelled": unlabelled,
            },
            now,
            "ready",
            buttons=(
                cancel_button(self._messenger, broadcast)
                if broadcast.review == "block"
                else preview_buttons(self._messenger, broadcast)
            ),
        )
        return None

    # -- buttons --------------------------------------------------------------------------------
    async def start(
        self, broadcast_id: int, person: Person, card: MessageRef | None, now: datetime
    ) -> str:
        """Send pressed on ``card``: returns the label the button press is answered with."""
        broadcast = await self._repo.lock(broadcast_id)
        if broadcast is None:
            return "button_expired"
        if not _on_its_card(broadcast, card, person):
            return "broadcast_wrong_card"
        if broadcast.status != BroadcastStatus.DRAFT:
            return "broadcast_already"
        if broadcast.ab and not (broadcast.b_source_message_id or broadcast.b_template):
            return "broadcast_needs_b"
        if broadcast.review == "block":  # a blocked word, or a promotion without its label
            return "broadcast_review_blocked"
        if broadcast.review == "warn" and not broadcast.review_confirmed:
            broadcast.review_confirmed = True
            return "broadcast_review_confirm"  # the second press sends
        try:
            segment = self._audience(broadcast.segment, now)
        except SegmentError:  # the config was reloaded without it
            return "broadcast_segment_gone"
        broadcast.status, broadcast.started_at, broadcast.started_by = (
            BroadcastStatus.SENDING,
            now,
            person.id,
        )
        broadcast.progressed_at = now
        broadcast.progress_message_id = broadcast.card_message_id
        broadcast.audience = await self._repo.materialise(broadcast, segment)
        if broadcast.ab:
            broadcast.report_due_at = now + self._config.broadcasts.ab_window
        log.info(
            "broadcast %d to %s started by %d: %d recipients",
            broadcast.id,
            broadcast.segment,
            person.id,
            broadcast.audience,
        )
        await self._advance(broadcast, now, force_edit=True)
        return "broadcast_started"

    async def cancel(
        self, broadcast_id: int, person: Person, card: MessageRef | None, now: datetime
    ) -> str:
        """Cancel pressed on ``card``: returns the label the button press is answered with."""
        broadcast = await self._repo.lock(broadcast_id)
        if broadcast is None:
            return "button_expired"
        if not _on_its_card(broadcast, card, person):
            return "broadcast_wrong_card"
        if broadcast.status == BroadcastStatus.DRAFT:
            broadcast.status, broadcast.finished_at = BroadcastStatus.CANCELLED, now
            await self._card(broadcast, "broadcast_discarded", {}, now, "discarded", buttons=None)
            return "broadcast_cancelled"
        if broadcast.status != BroadcastStatus.SENDING:
            return "broadcast_already"
        dropped = await self._repo.drop_pending(broadcast.id, now)
        broadcast.status = BroadcastStatus.CANCELLED
        log.info("broadcast %d cancelled by %d: %d dropped", broadcast.id, person.id, dropped)
        await self._advance(broadcast, now, force_edit=True)
        return "broadcast_cancelled"

    async def note_reply(self, person: Person, now: datetime) -> None:
        """A member wrote to the bot (A/B replies)."""
        await self._repo.note_reply(person.id, now, self._config.broadcasts.ab_window)

    # -- the pump -------------------------------------------------------------------------------
    async def pump(self, now: datetime) -> datetime | None:
        """Refills each running broadcast's backlog, edits its progress, finishes it; sends due
        A/B reports. Returns when to look again (``None``: nothing running)."""
        wake: datetime | None = None
        for broadcast in await self._repo.active():
            at = await self._advance(broadcast, now)
            if at is not None:
                wake = at if wake is None else min(wake, at)
        for broadcast in await self._repo.reports_due(now):
            await self._report(broadcast, now)
        return wake

    async def _advance(
        self, broadcast: Broadcast, now: datetime, *, force_edit: bool = False
    ) -> datetime | None:
        await self._repo.reconcile(broadcast.id, now)
        tally = await self._repo.tally(broadcast.id)
        wake: datetime | None = now + STEP
        held_until = self._quiet_until(now)
        if broadcast.status == BroadcastStatus.SENDING and tally.waiting:
            if held_until is not None:
                broadcast.progressed_at = now  # held on purpose: not stuck
                wake = held_until
            elif tally.queued < self._config.broadcasts.backlog:
                moved, failed = await self._hand_over(
                    broadcast, self._config.broadcasts.backlog - tally.queued, now
                )
                if moved or failed:
                    broadcast.progressed_at = now
                    tally = await self._repo.tally(broadcast.id)
                log.debug("broadcast %d: %d handed over (%s)", broadcast.id, moved, tally.state())
        state = tally.state()
        if tally.pending == 0:
            broadcast.finished_at = now
            if broadcast.status == BroadcastStatus.SENDING:
                broadcast.status = BroadcastStatus.DONE
            await self._show_progress(broadcast, tally, now, None)
            await self._messenger.send(
                key=f"bc:{broadcast.id}:tally",
                chat_id=broadcast.chat_id,
                chat_kind=ChatKind(broadcast.chat_kind),
                purpose=Purpose.REPLY,
                template="broadcast_done",
                locale=broadcast.locale,
                now=now,
                context=progress_context(broadcast, tally, now),
            )
            log.info("broadcast %d finished: %s", broadcast.id, state)
            return None
        if state != broadcast.progress_state:
            broadcast.progressed_at = now
            edited = broadcast.progress_edited_at
            if (
                force_edit
                or edited is None
                or now - edited >= self._config.broadcasts.progress_every
            ):
                await self._show_progress(broadcast, tally, now, held_until)
        return wake

    async def _hand_over(self, broadcast: Broadcast, limit: int, now: datetime) -> tuple[int, int]:
        """The next ``limit`` waiting recipients into the outbox; a copy that cannot be made
        for one (its template failed in their language) fails that recipient alone."""
        rows: list[dict[str, Any]] = []
        failed = 0
        chunk = await self._repo.next_chunk(broadcast.id, limit)
        refused = await self._privacy.refused(
            [m.user_id for m in chunk], self._config.privacy.require_consent
        )
        for member in chunk:
            if member.user_id in refused:  # sent /stop (or was erased) since the start
                await self._repo.settle(
                    broadcast.id,
                    member.user_id,
                    RecipientStatus.DROPPED,
                    now,
                    was=RecipientStatus.WAITING,
                )
                failed += 1
                continue
            payload = self._payload(broadcast, member, now)
            if payload is None:
                await self._repo.settle(
                    broadcast.id,
                    member.user_id,
                    RecipientStatus.FAILED,
                    now,
                    was=RecipientStatus.WAITING,
                )
                failed += 1
                continue
            method, body = payload
            rows.append({"user_id": member.user_id, "method": method, "payload": body})
        await self._repo.enqueue(broadcast.id, rows, now)
        return len(rows), failed

    def _audience(self, segment: str, now: datetime) -> Select[Any]:
        """The segment's members a broadcast may reach: not opted out (``/stop``), not
        erased, and agreed when ``privacy.require_consent`` (issue 15)."""
        return self._segments.user_ids(segment, now).where(
            marketing_allowed(self._config.privacy.require_consent)
        )

    def _payload(
        self, broadcast: Broadcast, member: Chunk, now: datetime
    ) -> tuple[str, dict[str, Any]] | None:
        b = member.variant == "b"
        message_id = broadcast.b_source_message_id if b else broadcast.source_message_id
        template = broadcast.b_template if b else broadcast.template
        if message_id is not None:
            return "copyMessage", {
                "from_chat_id": broadcast.source_chat_id,
                "message_id": message_id,
                "_broadcast": broadcast.id,
            }
        assert template is not None
        locale = self._messenger.renderer.locale_for(member.language_code)
        try:
            text = self._messenger.renderer.render(
                template, locale, {"first_name": member.first_name}
            )
            if broadcast.promotional:
                text = f"{self._messenger.ad_label(locale)} {text}"
        except TemplateRenderError as error:
            log.error(
                "broadcast %d: template %s (%s) failed: %s",
                broadcast.id,
                template,
                locale,
                error.reason,
            )
            return None
        return "sendMessage", {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "_broadcast": broadcast.id,
            "_template": template,
        }

    # -- what operators see ---------------------------------------------------------------------
    async def _preview(
        self, broadcast: Broadcast, variant: str, content: Content, person: Person, now: datetime
    ) -> Answer | None:
        """Queues the variant as members will see it; the answer to give when it cannot be."""
        key = f"bc:{broadcast.id}:preview:{variant}"
        if content.message_id is not None:
            await self._messenger.call(
                Call(
                    key=key,
                    chat_id=broadcast.chat_id,
                    chat_kind=ChatKind(broadcast.chat_kind),
                    purpose=Purpose.REPLY,
                    method="copyMessage",
                    payload={"from_chat_id": content.chat_id, "message_id": content.message_id},
                ),
                now,
            )
            return None
        assert content.template is not None
        try:
            self._messenger.renderer.render(
                content.template, broadcast.locale, {"first_name": person.first_name}
            )
        except TemplateRenderError as error:
            return "broadcast_template_failed", {
                "template": content.template,
                "reason": error.reason[:300],
            }
        await self._messenger.send(
            key=key,
            chat_id=broadcast.chat_id,
            chat_kind=ChatKind(broadcast.chat_kind),
            purpose=Purpose.REPLY,
            template=content.template,
            locale=broadcast.locale,
            context={"first_name": person.first_name},
            now=now,
            ad=broadcast.promotional,
        )
        return None

    async def _card(
        self,
        broadcast: Broadcast,
        template: str,
        context: dict[str, Any],
        now: datetime,
        stage: str,
        *,
        buttons: dict[str, Any] | None,
    ) -> None:
        """The message with the buttons (on Send it becomes the progress message)."""
        await self._messenger.send(
            key=card_key(broadcast.id, stage),
            chat_id=broadcast.chat_id,
            chat_kind=ChatKind(broadcast.chat_kind),
            purpose=Purpose.REPLY,
            template=template,
            locale=broadcast.locale,
            now=now,
            reply_markup=buttons,
            context={
                "id": broadcast.id,
                "segment": broadcast.segment,
                "ab": broadcast.ab,
                "quiet": self._config.broadcasts.respect_quiet_hours
                and self._engine.quiet is not None,
                **context,
            },
        )

    async def _show_progress(
        self, broadcast: Broadcast, tally: Tally, now: datetime, held_until: datetime | None
    ) -> None:
        broadcast.progress_state = tally.state()
        broadcast.progress_edited_at = now
        if broadcast.progress_message_id is None:
            return
        running = broadcast.finished_at is None
        context = progress_context(
            broadcast,
            tally,
            now,
            "" if held_until is None else held_until.astimezone(self._config.tz).strftime("%H:%M"),
        )
        try:
            text = self._messenger.renderer.render("broadcast_progress", broadcast.locale, context)
        except TemplateRenderError as error:
            await self._messenger.notify_template_failure(error, now)
            return
        broadcast.progress_edits += 1
        payload: dict[str, Any] = {
            "message_id": broadcast.progress_message_id,
            "text": text,
            "parse_mode": "HTML",
        }
        if running and broadcast.status == BroadcastStatus.SENDING:
            payload["reply_markup"] = cancel_button(self._messenger, broadcast)
        # due at the start: claimed before the copies queued since, not behind them
        await self._outbox.enqueue(
            key=f"bc:{broadcast.id}:edit:{broadcast.progress_edits}",
            chat_id=broadcast.chat_id,
            chat_kind=ChatKind(broadcast.chat_kind),
            purpose=Purpose.BROADCAST_PROGRESS,
            method="editMessageText",
            payload=payload,
            now=now,
            due_at=min(now, broadcast.started_at or now),
        )

    async def _report(self, broadcast: Broadcast, now: datetime) -> None:
        until = broadcast.report_due_at or now
        results = await self._repo.variant_results(broadcast, until)
        broadcast.reported_at = now
        chat_id = self._config.team.chat or broadcast.chat_id
        kind = ChatKind.GROUP if self._config.team.chat else ChatKind(broadcast.chat_kind)
        locale = self._config.default_locale if self._config.team.chat else broadcast.locale
        await self._messenger.send(
            key=f"bc:{broadcast.id}:ab-report",
            chat_id=chat_id,
            chat_kind=kind,
            purpose=Purpose.TEAM,
            template="broadcast_ab_report",
            locale=locale,
            now=now,
            context={
                "id": broadcast.id,
                "segment": broadcast.segment,
                "window_hours": round(
                    (until - (broadcast.started_at or until)).total_seconds() / 3600
                ),
                "variants": [r.__dict__ for r in results],
            },
        )

    # -- helpers --------------------------------------------------------------------------------
    def _quiet_until(self, now: datetime) -> datetime | None:
        quiet = self._engine.quiet
        if (
            not self._config.broadcasts.respect_quiet_hours
            or quiet is None
            or not quiet.is_quiet(now)
        ):
            return None
        return quiet.defer(now)

    def _locale(self, person: Person) -> str:
        return self._messenger.renderer.locale_for(person.language_code)


def _on_its_card(broadcast: Broadcast, card: MessageRef | None, person: Person) -> bool:
    """A press counts only on the broadcast's own card: the same button data on another
    message (forged, or copied to another chat) would start it and send its progress to a
    message of the wrong chat."""
    if (
        card is not None
        and broadcast.card_message_id is not None
        and (card.chat_id, card.message_id) == (broadcast.card_chat_id, broadcast.card_message_id)
    ):
        return True
    log.warning(
        "broadcast %d: press by %d on message %s refused (its card: %s in %s)",
        broadcast.id,
        person.id,
        card,
        broadcast.card_message_id,
        broadcast.card_chat_id,
    )
    return False
