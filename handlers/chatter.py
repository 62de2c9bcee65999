"""The fast path for plain chatter: the members' messages of a getUpdates batch that trigger
nothing but bookkeeping are recorded together, in one transaction, before the rest of the batch
goes through the dispatcher one update at a time.

A message is plain chatter (:func:`chatter_of`) when every router would only count it: a member's
(not a bot's, not a channel's, not an anonymous admin's) content message in a community whose
messages nobody watches (no moderation, no complaint words), not a command, not from anyone the
team directory knows (operators, and teammates whose rights might need asking again), without a
hook keyword, an interest word or a question (when first response is on). Everything else, and
every update of a member who has anything else in the batch (so a member's updates keep their
order), takes the single path; so does a message whose author the ledger does not know or who
was silent long enough for the lifecycle to look (``ChatterService.absorb``).

A failure of the bulk transaction that is not the infrastructure's hands the whole batch to the
single path, where each update commits or fails alone; the infrastructure's is raised, and the
batch comes again (its recorded part is then a no-op: the handled-update ids)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram.types import Message, Update

from bot.config import CommunityConfig
from bot.failures import describe, is_infrastructure_error
from bot.runtime import Runtime
from bot.services.members.chatter import Chatter, ChatterService
from handlers.activity import MEMBER_CONTENT
from handlers.convert import person
from handlers.filters import OperatorDirectory
from sop.engine import SopEngine

log = logging.getLogger(__name__)


def chatter_of(
    update: Update,
    config: CommunityConfig,
    engine: SopEngine,
    operators: OperatorDirectory,
    bot_id: int,
) -> Chatter | None:
    """The update as plain chatter, or ``None`` when anything else may come of it."""
    message = update.message
    if message is None or config.watches_messages or not config.is_community(message.chat.id):
        return None
    user = message.from_user
    if (
        user is None
        or user.is_bot
        or message.sender_chat is not None
        or message.is_automatic_forward
        or message.content_type not in MEMBER_CONTENT
        or operators.may_be_operator(config, user.id)
    ):
        return None
    text = message.text or message.caption or ""
    if text.startswith("/") or _triggers(message, text, config, engine, bot_id):
        return None
    return Chatter(update.update_id, message.chat.id, person(user), message.date)


def _triggers(
    message: Message, text: str, config: CommunityConfig, engine: SopEngine, bot_id: int
) -> bool:
    if not text:
        return False
    if engine.hooks_in(text) or engine.interests_in(text):
        return True
    if not config.first_response.enabled:
        return False
    reply = message.reply_to_message
    to_bot = bool(reply and reply.from_user and reply.from_user.id == bot_id)
    return engine.is_question(text, replies_to_bot=to_bot)


def _people(update: Update) -> set[int]:
    """Everyone an update is by or about (a member's updates keep their order)."""
    event = update.event
    ids = set()
    user = getattr(event, "from_user", None)
    if user is not None:
        ids.add(user.id)
    for name in ("new_chat_member", "old_chat_member"):  # chat_member: the subject
        member = getattr(event, name, None)
        if member is not None:
            ids.add(member.user.id)
    for joined in getattr(event, "new_chat_members", None) or ():
        ids.add(joined.id)
    left = getattr(event, "left_chat_member", None)
    if left is not None:
        ids.add(left.id)
    return ids


class ChatterPath:
    """Called by the poller with each batch's parsed updates (before the dispatcher)."""

    def __init__(self, runtime: Runtime, operators: OperatorDirectory) -> None:
        self._runtime = runtime
        self._operators = operators

    async def __call__(self, updates: Sequence[Update]) -> frozenset[int]:
        """The update ids done here (committed, or committed before); the rest are the
        dispatcher's. Raises what the infrastructure failed."""
        runtime = self._runtime
        loaded = runtime.config.loaded
        config, engine = loaded.config, loaded.engine
        chatter: list[Chatter] = []
        others: set[int] = set()
        for update in updates:
            found = chatter_of(update, config, engine, self._operators, runtime.identity.id)
            if found is None:
                others |= _people(update)
            else:
                chatter.append(found)
        chatter = [c for c in chatter if c.person.id not in others]
        if not chatter:
            return frozenset()
        runtime.updates_in_flight += 1
        try:
            async with runtime.db.transaction() as session:
                service = ChatterService(session, config.tz, config.tags.lifecycle.silent)
                absorbed = await service.absorb(chatter, runtime.clock.now())
        except Exception as error:
            if is_infrastructure_error(error):
                raise
            log.warning(
                "a batch of %d messages could not be recorded together (%s); each on its own",
                len(chatter),
                describe(error),
            )
            return frozenset()
        finally:
            runtime.updates_in_flight -= 1
        return absorbed.done
