"""Join protection (``captcha`` per community): a newcomer proves to be a person before joining.

- A join request gets a challenge by DM (pick the emoji shown); the right button sends the gift
  DM, then approves the request (as without protection); a wrong button, or none within
  ``captcha.within``, declines it.
- A plain joiner is restricted at once (no sending), then mentioned in a group challenge
  (batched like greetings: the group's 20 messages a minute) with one button; the member's own
  press within ``captcha.within`` lifts the restriction, and the greeting and the gift follow;
  otherwise the member is removed (ban, then unban) and the challenge deleted.

The timer is the challenge's ``deadline`` in the database, run out by the captcha loop
(``jobs.py``): a restart keeps it; a group challenge's time counts from when it was sent
(``CaptchaDeliveryHook`` in ``delivery.py``). A button's callback data carries a random token:
a forged one matches nothing, and a press counts only from the member it was made for."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.config.durations import format_duration
from bot.config.moderation import CaptchaConfig
from bot.db.models import Captcha
from bot.db.models.outbox import SERVICE_LANE, ChatKind, Purpose
from bot.db.repositories import MemberRepository, MembershipRepository
from bot.db.repositories.captcha import FAILED, JOIN, PASSED, PENDING, REQUEST, CaptchaRepository
from bot.db.repositories.moderation import ModActionRepository
from bot.services.dto import Person
from bot.services.members.ledger import LedgerService
from bot.services.messenger import Call, Messenger
from bot.services.moderation.dto import MUTED, UNMUTED
from bot.services.welcome.service import WelcomeService
from sop.welcome import Joiner, plan_greetings

log = logging.getLogger(__name__)

#: callback data of a DM challenge's buttons (``cap:<token>:<choice>``) and of a group
#: challenge's one button (``capj:<token>``)
REQUEST_PREFIX, JOIN_PREFIX = "cap:", "capj:"
#: the pictures a DM challenge picks from (one is asked for, the others are wrong)
EMOJI = ("🍎", "🚗", "🐱", "⚽", "🌙", "🎈", "🔑", "🌻", "🐟", "⭐", "🎵", "🍉")
#: characters of a name shown in a group challenge
MAX_NAME = 64


def new_token() -> str:
    """16 URL-safe characters (96 random bits): unguessable, and short for 64-byte data."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class PressAnswer:
    """What a press is answered with (a label template) and whether as an alert."""

    label: str
    alert: bool = False


class CaptchaService:
    def __init__(
        self,
        session: AsyncSession,
        config: CommunityConfig,
        messenger: Messenger,
        ledger: LedgerService,
        welcome: WelcomeService,
    ) -> None:
        self._config = config
        self._messenger = messenger
        self._ledger = ledger
        self._welcome = welcome
        self._captchas = CaptchaRepository(session)
        self._actions = ModActionRepository(session)
        self._members = MemberRepository(session)
        self._stints = MembershipRepository(session)

    # -- arrivals -----------------------------------------------------------------------------

    async def on_join_request(
        self, chat_id: int, person: Person, invite_link: str | None, now: datetime
    ) -> None:
        """A join request: challenged by DM where the community is protected, else the gift
        and the approval at once (:meth:`WelcomeService.on_join_request`)."""
        captcha = self._config.captcha_for(chat_id)
        if captcha is None or person.id in self._config.team.operators:
            await self._welcome.on_join_request(chat_id, person, invite_link, now)
            return
        member = await self._ledger.record_join_request(person, invite_link, now)
        if await self._captchas.pending(chat_id, person.id, REQUEST) is not None:
            return  # the same request seen again
        answer = secrets.randbelow(captcha.choices)
        pictures = _pictures(captcha.choices)
        row = await self._captchas.add(
            chat_id=chat_id,
            user_id=person.id,
            kind=REQUEST,
            token=new_token(),
            answer=answer,
            now=now,
            deadline=now + captcha.within,
        )
        community = self._config.community(chat_id)
        buttons = [
            {"text": picture, "callback_data": f"{REQUEST_PREFIX}{row.token}:{i}"}
            for i, picture in enumerate(pictures)
        ]
        await self._messenger.send(
            key=f"captcha:dm:{row.id}",
            chat_id=person.id,
            chat_kind=ChatKind.PRIVATE,
            purpose=Purpose.CAPTCHA,
            template="captcha_dm",
            locale=self._messenger.renderer.locale_for(member.language_code),
            context={
                "name": person.first_name,
                "community": community.title if community else "",
                "emoji": pictures[answer],
                "within": format_duration(captcha.within),
            },
            now=now,
            reply_markup={
                "inline_keyboard": [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
            },
            lane=SERVICE_LANE,
            extra={"_captcha": row.id},  # its time counts from when it went (the hook)
        )

    async def on_join(
        self,
        chat_id: int,
        person: Person,
        invite_link: str | None,
        now: datetime,
        *,
        via_join_request: bool = False,
        at: datetime | None = None,
    ) -> None:
        """A plain join is restricted and challenged where the community is protected; a join
        by request was challenged before (or approved by an administrator)."""
        captcha = self._config.captcha_for(chat_id)
        held = (
            captcha is not None
            and not via_join_request
            and not person.is_bot
            and person.id not in self._config.team.operators
        )
        stint = await self._welcome.on_join(
            chat_id, person, invite_link, now, via_join_request=via_join_request, at=at, held=held
        )
        if via_join_request:
            request = await self._captchas.pending(chat_id, person.id, REQUEST)
            if request is not None:  # an administrator approved it meanwhile
                await self._captchas.settle(request.id, PASSED, "admin", now)
        if not held or stint is None or captcha is None:
            return
        await self._call(
            chat_id,
            f"captcha:mute:{chat_id}:{person.id}:{stint.id}",
            "restrictChatMember",
            {"user_id": person.id, "permissions": MUTED, "use_independent_chat_permissions": True},
            now,
        )
        await self._captchas.add(
            chat_id=chat_id,
            user_id=person.id,
            kind=JOIN,
            token=new_token(),  # replaced by its group challenge's
            answer=0,
            now=now,
            deadline=now + captcha.within,
            stint_id=stint.id,
        )

    # -- presses ------------------------------------------------------------------------------

    async def press_request(self, data: str, user_id: int, now: datetime) -> PressAnswer:
        """A button of a DM challenge (``cap:<token>:<choice>``)."""
        token, _, choice = data.removeprefix(REQUEST_PREFIX).partition(":")
        row = next((c for c in await self._captchas.by_token(token) if c.kind == REQUEST), None)
        if row is None or row.user_id != user_id:
            return PressAnswer("captcha_not_yours", alert=True)
        if row.status != PENDING:
            return PressAnswer("captcha_over")
        right = choice.isdigit() and int(choice) == row.answer
        if not await self._captchas.settle(
            row.id, PASSED if right else FAILED, "right" if right else "wrong", now
        ):
            return PressAnswer("captcha_over")
        if right:
            await self._passed(row, now)
            await self._welcome.admit_request(row.chat_id, row.user_id, now)
            return PressAnswer("captcha_passed")
        await self._failed(row, "wrong", now)
        return PressAnswer("captcha_wrong", alert=True)

    async def press_join(self, data: str, chat_id: int, user_id: int, now: datetime) -> PressAnswer:
        """The button of a group challenge (``capj:<token>``): only a newcomer it mentions."""
        token = data.removeprefix(JOIN_PREFIX)
        rows = [c for c in await self._captchas.by_token(token) if c.kind == JOIN]
        row = next((c for c in rows if c.user_id == user_id and c.chat_id == chat_id), None)
        if row is None:
            return PressAnswer("captcha_not_yours", alert=True)
        if row.status != PENDING or not await self._captchas.settle(row.id, PASSED, "right", now):
            return PressAnswer("captcha_over")
        await self._passed(row, now)
        await self._call(
            chat_id,
            f"captcha:free:{row.id}",
            "restrictChatMember",
            # all true lifts the restriction: the member is back to the chat's permissions
            {"user_id": user_id, "permissions": UNMUTED, "use_independent_chat_permissions": True},
            now,
        )
        await self._welcome.send_gift_if_owed(user_id, now)  # the greeting: the welcome loop
        await self._drop_challenge_when_done(row, now)
        return PressAnswer("captcha_passed")

    # -- the loop -----------------------------------------------------------------------------

    async def tick(self, now: datetime) -> datetime | None:
        """Runs out the challenges past their time, then posts the group challenges that are
        due; returns when to look again."""
        for row in await self._captchas.due(now):
            if row.kind == JOIN and await self._stints.open_stint(row.chat_id, row.user_id) is None:
                # gone before the time ran out: nobody to remove
                if await self._captchas.settle(row.id, FAILED, "left", now):
                    await self._drop_challenge_when_done(row, now)
            elif await self._captchas.settle(row.id, FAILED, "timeout", now):
                await self._failed(row, "timeout", now)
        wake = await self._captchas.next_deadline()
        for community in self._config.communities:
            if community.captcha is None:
                continue
            check = await self._post_challenges(community.chat_id, community.captcha, now)
            if check is not None:
                wake = check if wake is None else min(wake, check)
        return wake

    async def _post_challenges(
        self, chat_id: int, captcha: CaptchaConfig, now: datetime
    ) -> datetime | None:
        waiting = await self._captchas.awaiting_challenge(chat_id, limit=1000)
        plan = plan_greetings(
            [Joiner(c.id, c.created_at) for c in waiting],
            now,
            batch_window=captcha.group_batch,
            max_mentions=captcha.max_mentions,
        )
        by_id = {c.id: c for c in waiting}
        locale = self._messenger.renderer.default_locale
        label = self._messenger.label("captcha_button", locale, fallback="✅")
        for batch in plan.batches:
            rows = [by_id[i] for i in batch]
            members = [await self._members.get(c.user_id) for c in rows]
            token = new_token()
            outbox_id = await self._messenger.send(
                key=f"captcha:group:{chat_id}:{rows[0].id}",
                chat_id=chat_id,
                chat_kind=ChatKind.GROUP,
                purpose=Purpose.CAPTCHA_GROUP,
                template="captcha_group",
                locale=locale,
                context={
                    "members": [
                        {"id": m.user_id, "name": (m.first_name or "👋")[:MAX_NAME]}
                        for m in members
                        if m is not None
                    ],
                    "within": format_duration(captcha.within),
                },
                now=now,
                reply_markup={
                    "inline_keyboard": [[{"text": label, "callback_data": f"{JOIN_PREFIX}{token}"}]]
                },
                lane=SERVICE_LANE,
            )
            if outbox_id is None:
                break  # template broken (team told): the joiners are removed at their time
            await self._captchas.assign_challenge(batch, outbox_id, token)
        return plan.next_check

    # -- internals ----------------------------------------------------------------------------

    async def _passed(self, row: Captcha, now: datetime) -> None:
        await self._actions.add(
            chat_id=row.chat_id, user_id=row.user_id, action="captcha_pass", rule=row.kind, at=now
        )
        log.info("captcha: %d passed in %d (%s)", row.user_id, row.chat_id, row.kind)

    async def _failed(self, row: Captcha, how: str, now: datetime) -> None:
        """Declines the request, or removes the joiner (ban, then unban: they may try again)
        and deletes the challenge once nobody it mentions is still to answer."""
        await self._actions.add(
            chat_id=row.chat_id, user_id=row.user_id, action="captcha_fail", rule=how, at=now
        )
        if row.kind == REQUEST:
            await self._call(
                row.chat_id,
                f"captcha:decline:{row.id}",
                "declineChatJoinRequest",
                {"user_id": row.user_id},
                now,
            )
            action = "decline"
        else:
            await self._call(
                row.chat_id, f"captcha:ban:{row.id}", "banChatMember", {"user_id": row.user_id}, now
            )
            await self._call(
                row.chat_id,
                f"captcha:unban:{row.id}",
                "unbanChatMember",
                {"user_id": row.user_id, "only_if_banned": True},
                now,
            )
            await self._drop_challenge_when_done(row, now)
            action = "remove"
        await self._actions.add(
            chat_id=row.chat_id, user_id=row.user_id, action=action, rule="captcha", at=now
        )
        log.info(
            "captcha: %d failed in %d (%s, %s): %s", row.user_id, row.chat_id, row.kind, how, action
        )

    async def _drop_challenge_when_done(self, row: Captcha, now: datetime) -> None:
        """Deletes the group challenge once nobody it mentions is still to answer. Called after
        ``row`` was settled (its row written, so locked until commit): the delivery hook, which
        writes the message id into the same rows before it looks, cannot miss it as well."""
        if row.challenge_outbox_id is None:
            return
        message_id = await self._captchas.challenge_message(row.challenge_outbox_id)
        if message_id is not None and not await self._captchas.any_pending(row.challenge_outbox_id):
            await self._delete(row.chat_id, message_id, now)

    async def _delete(self, chat_id: int, message_id: int, now: datetime) -> None:
        await self._call(
            chat_id,
            f"captcha:del:{chat_id}:{message_id}",
            "deleteMessage",
            {"message_id": message_id},
            now,
        )

    async def _call(
        self, chat_id: int, key: str, method: str, payload: dict[str, object], now: datetime
    ) -> None:
        await self._messenger.call(
            Call(
                key=key,
                chat_id=chat_id,
                chat_kind=ChatKind.API,
                purpose=Purpose.CAPTCHA,
                method=method,
                payload=dict(payload),
            ),
            now,
            lane=SERVICE_LANE,
        )


def _pictures(count: int) -> list[str]:
    """``count`` different pictures in a random order."""
    pool = list(EMOJI)
    return [pool.pop(secrets.randbelow(len(pool))) for _ in range(count)]
