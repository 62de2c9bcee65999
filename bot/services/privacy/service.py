"""A member's privacy rights in private, and an operator's erasure of a member:

- ``/privacy``: what is kept, why, for how long, how to export or erase it (and "Agree" when
  consent is required and not given);
- "Agree": marketing DMs may go; the ones held for it (the gift pack) go now;
- ``/stop`` / ``/start``: out of, and back into, marketing DMs;
- ``/mydata``: a JSON document of everything kept about them, nothing of anyone else;
- ``/forget``: a one-time confirm button, then :meth:`PrivacyService.erase`;
- ``/member ID forget``: the same erasure for requests that come another way.

Each export and erasure is in the audit log; an erasure leaves a keyed hash of the id in the
suppression list, so nothing goes to that user again until they ``/start`` anew.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import Member
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories import OutboxRepository
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.privacy import PrivacyRepository
from bot.services.dto import Origin, Person
from bot.services.files import FileRejectedError
from bot.services.messenger import Call, Messenger
from bot.services.privacy.delivery import PSEUDONYM
from bot.services.privacy_gate import AGREE, agree_button
from bot.services.privacy_keys import digest
from bot.services.team import TeamService

log = logging.getLogger(__name__)

#: the callback data prefix of the ``/forget`` confirm button (``pv:forget:<token>``)
FORGET = "pv:forget:"
#: what a forum topic of an erased member is renamed to
ERASED_TOPIC = "erased member"


class PrivacyService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        key: bytes,
    ) -> None:
        self._session = session
        self._config = config
        self._messenger = messenger
        self._repo = PrivacyRepository(session)
        self._key = key

    # -- what members see -----------------------------------------------------------------------
    async def show(self, person: Person, origin: Origin, now: datetime) -> None:
        """``/privacy``."""
        state = await self._repo.state(person.id)
        privacy = self._config.privacy
        ask = privacy.require_consent and (state is None or state.consented_at is None)
        locale = self._locale(person)
        markup = None
        if ask:
            label = self._messenger.label("privacy_agree_button", locale, fallback="Agree")
            markup = {"inline_keyboard": [agree_button(label, person.id)]}
        context = {
            "retention_days": privacy.retention.days if privacy.retention else None,
            "require_consent": privacy.require_consent,
            "consented": state is not None and state.consented_at is not None,
            "opted_out": state is not None and state.opted_out_at is not None,
        }
        await self._reply(person, origin, "privacy_info", context, now, reply_markup=markup)
        if state is None or (state.notice_version or 0) < privacy.notice_version:
            state = await self._repo.state_for(person.id)
            state.notice_version, state.notice_shown_at = privacy.notice_version, now
            await self._repo.log(person.id, "notice", now, privacy.notice_version)

    async def agree(self, data: str, presser: int, now: datetime) -> str:
        """The "Agree" button; the label of the press's answer."""
        if data != f"{AGREE}{presser}":
            return "privacy_not_yours"
        state = await self._repo.state_for(presser)
        if state.consented_at is None:
            state.consented_at, state.consent_version = now, self._config.privacy.notice_version
            await self._repo.log(presser, "consent", now, state.consent_version)
            released = await self._repo.release_held(presser, now)
            log.info("member %d agreed; %d held DMs released", presser, released)
        return "privacy_agreed"

    async def stop(self, person: Person, origin: Origin, now: datetime) -> None:
        """``/stop``: no marketing DMs until ``/start`` (also from someone the bot never saw:
        the wish is kept for when it does)."""
        state = await self._repo.state_for(person.id)
        if state.opted_out_at is None:
            state.opted_out_at = now
            await self._repo.log(person.id, "opt_out", now)
        await self._reply(person, origin, "privacy_stopped", {}, now)

    async def on_start(self, person: Person, now: datetime) -> None:
        """``/start`` (any payload): back into marketing DMs; an erased member starts anew (off
        the suppression list, their profile recorded again from now on); a pending ``/forget``
        button no longer works."""
        lifted = await self._repo.lift(digest(self._key, person.id))
        member = await self._session.get(Member, person.id)
        if member is not None and member.erased_at is not None:
            member.erased_at = None
            lifted = True
        state = await self._repo.state(person.id)
        if state is not None:
            if state.opted_out_at is not None:
                state.opted_out_at = None
                await self._repo.log(person.id, "opt_in", now)
            state.forget_token = None
        if lifted:
            await self._repo.log(person.id, "restart", now)

    # -- the export -----------------------------------------------------------------------------
    async def export(self, person: Person, origin: Origin, now: datetime) -> None:
        """``/mydata``: the JSON document, and an audit entry."""
        document: dict[str, Any] = {
            "user_id": person.id,
            "exported_at": now.isoformat(),
            "notice": "What sopbot keeps about you. Message texts are never stored.",
            **await self._repo.export(person.id),
        }
        data = json.dumps(document, ensure_ascii=False, indent=1, default=str).encode()
        await self._repo.log(person.id, "export", now)
        await self._audit(origin, person.id, "mydata", "", now)
        try:
            await self._messenger.send_file(
                key=f"reply:{origin.update_id}",
                chat_id=person.id,
                chat_kind=ChatKind.PRIVATE,
                purpose=Purpose.EXPORT,
                kind="document",
                filename=f"mydata-{person.id}.json",
                data=data,
                caption_template="privacy_mydata_caption",
                locale=self._locale(person),
                context={"size_kb": max(1, len(data) // 1024)},
                now=now,
            )
        except FileRejectedError as error:  # over Telegram's 50 MB: said, not a traceback
            log.warning("export of %d not sent: %s", person.id, error.reason)
            await self._reply(person, origin, "privacy_mydata_too_big", {}, now)

    # -- erasure --------------------------------------------------------------------------------
    async def ask_forget(self, person: Person, origin: Origin, now: datetime) -> None:
        """``/forget``: a confirm button that only this member, and only until their next
        ``/start`` or ``/forget``, can press."""
        state = await self._repo.state_for(person.id)
        state.forget_token = secrets.token_hex(8)
        locale = self._locale(person)
        label = self._messenger.label("privacy_forget_button", locale, fallback="Erase my data")
        markup = {
            "inline_keyboard": [[{"text": label, "callback_data": FORGET + state.forget_token}]]
        }
        await self._reply(person, origin, "privacy_forget_confirm", {}, now, reply_markup=markup)

    async def confirm_forget(
        self, token: str, person: Person, origin: Origin, now: datetime
    ) -> str:
        """The confirm button; the label of the press's answer."""
        state = await self._repo.state(person.id)
        if state is None or state.forget_token is None or state.forget_token != token:
            return "privacy_forget_expired"  # pressed twice, by someone else, after a /start
        state.forget_token = None
        await self.erase(person.id, now, reason="member", farewell=(person, origin))
        await self._audit(origin, 0, "forget", "by the member", now)
        return "privacy_forgotten_label"

    async def forget_by_operator(
        self, team: TeamService, origin: Origin, person: Person, user_id: int, now: datetime
    ) -> None:
        """``/member ID forget`` (its audit entry is the team command's own)."""
        member = await self._session.get(Member, user_id)
        if member is None or member.erased_at is not None:
            await team.reply(origin, person, "privacy_erase_unknown", {"id": user_id}, now)
            return
        team.renamed[user_id] = await self.erase(user_id, now, reason="operator")
        await team.reply(origin, person, "privacy_erased", {"id": user_id}, now)

    async def erase(
        self,
        user_id: int,
        now: datetime,
        *,
        reason: str,
        farewell: tuple[Person, Origin] | None = None,
        suppress: bool = True,
    ) -> int:
        """Blanks the identity (name, username, language, source, referral link, invite links,
        the desk's mappings, the name in forum topic titles), voids unused coupons, drops what
        still waits to be sent to them, replaces their id in every table by a pseudonym and
        puts the keyed hash of the id on the suppression list. Counts and aggregates stay,
        anonymous. ``farewell``: the member's last message (that it is done), queued once the
        rest is dropped; its row takes the pseudonym once it went (FarewellDeliveryHook).
        Returns the pseudonym."""
        await OutboxRepository(self._session).fail_pending_for_chat(user_id, "member erased")
        pseudonym, topics = await self._repo.erase(user_id, now)
        if farewell is not None:  # the one row left naming the real chat, until it went
            await self._reply(*farewell, "privacy_forgotten", {}, now, extra={PSEUDONYM: pseudonym})
        if suppress:  # the gate closes: nothing more to that id
            await self._repo.suppress(digest(self._key, user_id), now)
        # the log keeps that it happened, not to whom
        await self._repo.log(0, "erased" if suppress else "pseudonymised", now)
        for chat_id, thread_id in topics:
            await self._messenger.call(
                Call(
                    f"privacy:topic:{chat_id}:{thread_id}",
                    chat_id,
                    ChatKind.API,
                    Purpose.PRIVACY,
                    "editForumTopic",
                    {"message_thread_id": thread_id, "name": ERASED_TOPIC},
                ),
                now,
            )
        log.info("member erased (%s)", reason)
        return pseudonym

    async def pseudonymise_stale(self, now: datetime, retention: timedelta, limit: int) -> int:
        """The retention pass: up to ``limit`` members gone or silent longer than
        ``retention`` lose their identity (not put on the suppression list: they asked for
        nothing; a ``/start`` brings them back). One audit entry per batch."""
        stale = await self._repo.stale(now - retention, limit)
        for user_id in stale:
            await self.erase(user_id, now, reason="retention", suppress=False)
        if stale:
            await AuditRepository(self._session).add(
                update_id=-int(now.timestamp() * 1000),
                at=now,
                user_id=0,
                user_name="retention",
                chat_id=0,
                chat_kind="api",
                command="retention",
                args=f"{len(stale)} pseudonymised",
                result="ok",
            )
        return len(stale)

    async def rekey_erased(self, limit: int) -> int:
        """Erased members still keyed by their id (erased before ids were pseudonymised, or
        seen again in a community before a ``/start``): up to ``limit`` of them take a
        pseudonym. Their identity is blank already and they stay on the suppression list."""
        ids = await self._repo.erased_by_id(limit)
        for user_id in ids:
            await self._repo.rekey(user_id)
        if ids:
            log.info("retention: %d erased members re-keyed to pseudonyms", len(ids))
        return len(ids)

    async def prune_logs(
        self, now: datetime, *, audit: timedelta | None, moderation: timedelta | None
    ) -> tuple[int, int]:
        """The audit and moderation logs kept for their own periods (``None``: kept): what is
        older goes. Returns how many entries of each were deleted."""
        gone_audit = 0 if audit is None else await self._repo.drop_audit_before(now - audit)
        gone_moderation = (
            0 if moderation is None else await self._repo.drop_mod_actions_before(now - moderation)
        )
        if gone_audit or gone_moderation:
            log.info(
                "retention: %d audit entries and %d moderation actions deleted",
                gone_audit,
                gone_moderation,
            )
        return gone_audit, gone_moderation

    async def pseudonymised_on(self, start: datetime, end: datetime) -> int:
        """How many members the retention pass pseudonymised between the two times."""
        return await self._repo.count_events("pseudonymised", start, end)

    async def is_suppressed(self, user_id: int) -> bool:
        return await self._repo.suppressed(digest(self._key, user_id))

    # -- helpers --------------------------------------------------------------------------------
    def _locale(self, person: Person) -> str:
        return self._messenger.renderer.locale_for(person.language_code)

    async def _reply(
        self,
        person: Person,
        origin: Origin,
        template: str,
        context: dict[str, Any],
        now: datetime,
        *,
        reply_markup: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        await self._messenger.send(
            key=f"reply:{origin.update_id}",
            chat_id=person.id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.REPLY,
            template=template,
            locale=self._locale(person),
            context=context,
            now=now,
            reply_markup=reply_markup,
            extra=extra,
        )

    async def _audit(
        self, origin: Origin, user_id: int, command: str, args: str, now: datetime
    ) -> None:
        await AuditRepository(self._session).add(
            update_id=origin.update_id,
            at=now,
            user_id=user_id,
            user_name="member" if user_id else "erased member",
            chat_id=origin.chat_id if user_id else 0,
            chat_kind=origin.chat_kind,
            command=command,
            args=args,
            result="ok",
        )
