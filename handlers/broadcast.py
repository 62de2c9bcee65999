"""``/broadcast``: operators send a message or a template to a segment, after a preview, with
Send / Cancel buttons (only operators may press them).

    /broadcast SEGMENT                       (as a reply to the message to send)
    /broadcast SEGMENT template NAME
    /broadcast SEGMENT ab                    (reply to variant A; then, replying to variant B:)
    /broadcast variant b
    /broadcast SEGMENT ab template NAME_A NAME_B

Non-operators never reach the command (the team router refuses them, see handlers.team)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message, Update

from bot.services import Services
from bot.services.broadcasts.service import Content
from bot.services.broadcasts.view import CANCEL_PREFIX, SEND_PREFIX
from handlers.convert import origin, person, pressed_on
from handlers.filters import InTeamPlace, IsOperator

USAGE = (
    "/broadcast SEGMENT (reply to a message) · /broadcast SEGMENT template NAME · "
    "/broadcast SEGMENT ab, then /broadcast variant b (A/B) · "
    "/broadcast SEGMENT ad … (a promotion: the ad label)"
)
BUTTON = rf"^(?:{SEND_PREFIX}|{CANCEL_PREFIX})\d{{1,18}}$"
#: what a broadcast may copy (service messages, polls… cannot be)
COPYABLE = ("text", "photo", "video", "animation", "document", "audio", "voice")


def setup() -> Router:
    router = Router(name="broadcast")
    router.message.register(
        broadcast, Command("broadcast"), F.from_user, InTeamPlace(), IsOperator()
    )
    router.callback_query.register(press, F.data.regexp(BUTTON), IsOperator())
    router.callback_query.register(refuse_press, F.data.regexp(BUTTON))
    router.message.register(
        direct_message, F.chat.type == ChatType.PRIVATE, F.from_user, ~(F.text.startswith("/"))
    )
    return router


def _content(message: Message) -> Content | None:
    """The message being replied to, if a broadcast can copy it."""
    reply = message.reply_to_message
    if reply is None or not any(getattr(reply, kind, None) for kind in COPYABLE):
        return None
    return Content(
        chat_id=reply.chat.id, message_id=reply.message_id, text=reply.text or reply.caption
    )


async def broadcast(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split()
    variant_b = words[:2] == ["variant", "b"]
    rest = words[2:] if variant_b else words[1:]
    ad = not variant_b and rest[:1] == ["ad"]
    rest = rest[1:] if ad else rest
    ab = not variant_b and rest[:1] == ["ab"]
    rest = rest[1:] if ab else rest
    templates: list[str] = []
    if rest[:1] == ["template"]:
        templates, rest = rest[1:], []
        if not 1 <= len(templates) <= (2 if ab else 1):
            rest = ["template", *templates]  # too many or no names: usage below
    content = Content(template=templates[0]) if templates else _content(message)
    if not words or rest or content is None:
        await services.team.answer_usage(where, who, USAGE, now)
        return
    if variant_b:
        answer = await services.broadcasts.add_variant_b(where, who, content, now)
    else:
        second = Content(template=templates[1]) if len(templates) == 2 else None
        answer = await services.broadcasts.prepare(
            where, who, words[0], content, now, ab=ab, content_b=second, promotional=ad
        )
    if answer is not None:
        await services.team.reply(where, who, answer[0], answer[1], now)


async def direct_message(message: Message, services: Services, now: datetime) -> None:
    """A member's message to the bot counts as a reply to the A/B broadcasts they got; the
    message goes on to the other handlers."""
    assert message.from_user is not None
    await services.broadcasts.note_reply(person(message.from_user), now)
    raise SkipHandler


async def press(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    card = pressed_on(query)
    if query.data.startswith(SEND_PREFIX):
        label = await services.broadcasts.start(
            int(query.data.removeprefix(SEND_PREFIX)), person(query.from_user), card, now
        )
    else:
        label = await services.broadcasts.cancel(
            int(query.data.removeprefix(CANCEL_PREFIX)), person(query.from_user), card, now
        )
    return _answer(
        query, services, label, alert=label not in ("broadcast_started", "broadcast_cancelled")
    )


async def refuse_press(query: CallbackQuery, services: Services) -> AnswerCallbackQuery:
    return _answer(query, services, "broadcast_team_only", alert=True)


def _answer(
    query: CallbackQuery, services: Services, label: str, *, alert: bool
) -> AnswerCallbackQuery:
    locale = services.messenger.renderer.locale_for(query.from_user.language_code)
    # answerCallbackQuery sends no message and must come within seconds: not via the outbox;
    # made by the update's middleware once the press is committed (handlers.middlewares)
    return query.answer(services.messenger.label(label, locale, fallback="✓"), show_alert=alert)
