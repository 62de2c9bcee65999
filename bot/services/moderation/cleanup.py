"""``/cleanup``: an operator removes a community's silent members (``silent 90d``: nothing
posted there for 90 days, or never since joining that long ago) or a segment's, after a preview
(the count, the community, some names) and a confirm button bound to that operator and that
preview. The removals go through the outbox at :data:`REMOVAL_EVERY` (``banChatMember`` then
``unbanChatMember`` with ``only_if_banned``: they may join again), never operators, group
administrators or the bot; ``dm`` first sends each reachable one a last word (after quiet
hours). Each removal is a ``mod_actions`` row (``cleanup``, counted in ``/kpi``) and an audit
entry; the operator is told once the last one is settled
(:class:`~bot.services.moderation.cleanup_delivery.CleanupDeliveryHook`)."""

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
from bot.config.durations import DurationError, parse_duration
from bot.db.models.cleanup import Cleanup, CleanupStatus
from bot.db.models.outbox import ChatKind, Purpose
from bot.db.repositories.cleanup import CleanupRepository, in_community, silent_in
from bot.services.dto import MessageRef, Origin, Person
from bot.services.members.segments import SegmentError, SegmentService
from bot.services.messenger import Call, Messenger
from bot.services.moderation.cleanup_delivery import tell_done
from bot.services.team import TeamService
from sop.engine import SopEngine

log = logging.getLogger(__name__)

USAGE = (
    "/cleanup silent DURATION [dm] [CHAT_ID] · /cleanup segment NAME [dm] [CHAT_ID] "
    "(DURATION at least 7d, like 90d)"
)
#: a shorter silence is more likely a typo than a wish (``silent 9h`` would empty the group)
SHORTEST_SILENCE = timedelta(days=7)
#: names shown in a preview, at most
PREVIEW_NAMES = 10
#: a preview's button works this long, then does nothing
PREVIEW_LASTS = timedelta(minutes=15)
#: one member removed per this (two calls: ban, unban); Telegram publishes no limit for bans
REMOVAL_EVERY = timedelta(seconds=1)
#: with ``dm``: the removals begin this long after the last words may go
DM_LEAD = timedelta(minutes=2)
BUTTON = re.compile(r"^cl:(go|no):(\d{1,18}):([0-9a-f]{16})$")


@dataclass(frozen=True)
class CleanupArgs:
    kind: str  # "silent" or "segment"
    arg: str  # the duration as typed, or the segment's name
    chat_id: int
    dm: bool = False
    silence: timedelta | None = None


def read_args(args: str, config: CommunityConfig) -> CleanupArgs | None:
    """``silent 90d [dm] [CHAT_ID]`` or ``segment NAME [dm] [CHAT_ID]``; ``None`` when written
    otherwise (the community: the first configured unless named by its chat id)."""
    words = args.split()
    if len(words) < 2 or words[0].lower() not in ("silent", "segment"):
        return None
    kind, arg, rest = words[0].lower(), words[1], words[2:]
    dm = bool(rest) and rest[0].lower() == "dm"
    rest = rest[1:] if dm else rest
    chat_id = config.communities[0].chat_id
    if rest:
        if len(rest) > 1 or not re.fullmatch(r"-\d{1,18}", rest[0]):
            return None
        chat_id = int(rest[0])
        if not config.is_community(chat_id):
            return None
    silence = None
    if kind == "silent":
        try:
            silence = parse_duration(arg)
        except DurationError:
            return None
        if silence < SHORTEST_SILENCE:
            return None
    return CleanupArgs(kind, arg, chat_id, dm, silence)


def read_press(data: str) -> tuple[str, int, str] | None:
    """``(go|no, cleanup id, token)`` of a cleanup button's data."""
    match = BUTTON.fullmatch(data)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


class CleanupService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        engine: SopEngine,
        messenger: Messenger,
        team: TeamService,
        segments: SegmentService,
    ) -> None:
        self._config = config
        self._engine = engine
        self._messenger = messenger
        self._team = team
        self._segments = segments
        self._repo = CleanupRepository(session)

    async def preview(
        self,
        origin: Origin,
        operator: Person,
        args: CleanupArgs,
        spared: frozenset[int],
        now: datetime,
    ) -> None:
        """Counts who would go (less ``spared``: the group's administrators and the bot, and
        the team) and answers with the count, the community, some names and the buttons."""
        try:
            members = self._members(args.chat_id, args.kind, args.arg, now)
        except SegmentError:
            await self._team.answer_unknown(
                origin, operator, "cleanup segment", args.arg, self._segments.names(), now
            )
            return
        await self._repo.drop_drafts(operator.id)
        cleanup = Cleanup(
            chat_id=args.chat_id,
            operator_id=operator.id,
            kind=args.kind,
            arg=args.arg[:64],
            dm=args.dm,
            token=secrets.token_hex(8),
            status=CleanupStatus.DRAFT,
            removed=0,
            failed=0,
            reasons={},
            answer_chat_id=origin.chat_id,
            answer_chat_kind=origin.chat_kind,
            locale=self._messenger.renderer.locale_for(operator.language_code),
            created_at=now,
        )
        total = await self._repo.create(cleanup, members, spared | self._config.team.operators)
        context: dict[str, object] = {
            "count": total,
            "community": self._title(args.chat_id),
            "kind": args.kind,
            "arg": args.arg,
            "dm": args.dm,
        }
        if not total:
            cleanup.status = CleanupStatus.DROPPED
            await self._team.reply(origin, operator, "cleanup_none", context, now)
            return
        context["names"] = await self._repo.names(cleanup.id, PREVIEW_NAMES)
        context["minutes"] = max(1, round(total * REMOVAL_EVERY.total_seconds() / 60))
        locale = cleanup.locale
        data = f"{cleanup.id}:{cleanup.token}"
        buttons = {
            "inline_keyboard": [
                [
                    {
                        "text": self._messenger.label(
                            "cleanup_confirm_button", locale, fallback="Remove"
                        ),
                        "callback_data": f"cl:go:{data}",
                    },
                    {
                        "text": self._messenger.label(
                            "cleanup_cancel_button", locale, fallback="Cancel"
                        ),
                        "callback_data": f"cl:no:{data}",
                    },
                ]
            ]
        }
        await self._team.reply(
            origin, operator, "cleanup_preview", context, now, reply_markup=buttons
        )
        log.info(
            "cleanup %d previewed by %d: %d members of %d (%s %s)",
            cleanup.id,
            operator.id,
            total,
            args.chat_id,
            args.kind,
            args.arg,
        )

    async def press(
        self,
        action: str,
        cleanup_id: int,
        token: str,
        presser: Person,
        card: MessageRef | None,
        now: datetime,
    ) -> str:
        """The label a press is answered with. Only the operator who asked, on a preview still
        in date, with its own token, starts (or cancels) anything; its buttons are then taken
        off the card pressed."""
        cleanup = await self._repo.lock(cleanup_id)
        if (
            cleanup is None
            or not secrets.compare_digest(cleanup.token, token)
            or cleanup.operator_id != presser.id
        ):
            log.warning("cleanup %d: press by %d refused", cleanup_id, presser.id)
            return "cleanup_press_invalid"
        if cleanup.status != CleanupStatus.DRAFT:
            return "cleanup_press_already"
        if now - cleanup.created_at > PREVIEW_LASTS:
            cleanup.status = CleanupStatus.DROPPED
            return "cleanup_press_stale"
        if card is not None:
            await self._messenger.call(
                Call(
                    key=f"cleanup:{cleanup.id}:card",
                    chat_id=card.chat_id,
                    chat_kind=ChatKind(cleanup.answer_chat_kind),
                    purpose=Purpose.REPLY,
                    method="editMessageReplyMarkup",
                    payload={"message_id": card.message_id},
                ),
                now,
            )
        if action == "no":
            cleanup.status, cleanup.finished_at = CleanupStatus.DROPPED, now
            return "cleanup_press_cancelled"
        cleanup.status, cleanup.confirmed_at = CleanupStatus.RUNNING, now
        try:  # who spoke, left or changed segment since the preview is spared
            still = self._members(cleanup.chat_id, cleanup.kind, cleanup.arg, now)
        except (SegmentError, DurationError):  # the config was reloaded without the segment
            still = None
        cleanup.total = await self._repo.keep_only(cleanup.id, still) if still is not None else 0
        if not cleanup.total:
            await tell_done(self._messenger, self._config, cleanup, now)
            return "cleanup_press_started"
        await self._queue(cleanup, now)
        log.info("cleanup %d confirmed by %d: %d members", cleanup.id, presser.id, cleanup.total)
        return "cleanup_press_started"

    async def _queue(self, cleanup: Cleanup, now: datetime) -> None:
        start = now
        targets = await self._repo.targets(cleanup.id)
        if cleanup.dm:
            dm_at = self._engine.dm_time(now)
            title = self._title(cleanup.chat_id)
            for user_id, name, language, reachable in targets:
                if not reachable:
                    continue
                await self._messenger.send(
                    key=f"cleanup:{cleanup.id}:{user_id}:dm",
                    chat_id=user_id,
                    chat_kind=ChatKind.PRIVATE,
                    purpose=Purpose.WINBACK,
                    template="cleanup_farewell",
                    locale=self._messenger.renderer.locale_for(language),
                    context={"name": name, "community": title},
                    now=now,
                    due_at=dm_at,
                )
            start = dm_at + DM_LEAD
        for i, (user_id, *_rest) in enumerate(targets):
            due = start + i * REMOVAL_EVERY
            for step, method, payload in (
                ("ban", "banChatMember", {"user_id": user_id}),
                ("unban", "unbanChatMember", {"user_id": user_id, "only_if_banned": True}),
            ):
                await self._messenger.call(
                    Call(
                        key=f"cleanup:{cleanup.id}:{user_id}:{step}",
                        chat_id=cleanup.chat_id,
                        chat_kind=ChatKind.API,
                        purpose=Purpose.CLEANUP,
                        method=method,
                        payload={**payload, "_cleanup": [cleanup.id, step]},
                    ),
                    now,
                    due_at=due,
                )

    def _members(self, chat_id: int, kind: str, arg: str, now: datetime) -> Select[Any]:
        """``SELECT user_id`` of whom a cleanup is about at ``now`` (before the spared are
        taken out); :class:`SegmentError` for an unknown segment."""
        if kind == "silent":
            since = now - parse_duration(arg)
            return silent_in(chat_id, since, since.astimezone(self._config.tz).date())
        return self._segments.user_ids(arg, now).where(in_community(chat_id))

    def _title(self, chat_id: int) -> str:
        community = self._config.community(chat_id)
        return community.title if community else str(chat_id)
