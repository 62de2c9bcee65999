"""Operators steering the SOP: ``/sop`` (list, pause, resume, reload), ``/brief``, ``/qa``;
members pressing the evening Q&A's seat button.

Non-operators never reach these (the team router refuses them, see handlers.team)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message, Update

from bot.config import CommunityConfig
from bot.errors import ConfigError
from bot.services import Services
from bot.services.sop.schedules import RSVP_PREFIX
from handlers.buttons import answer
from handlers.convert import origin, person
from handlers.filters import InTeamPlace, IsOperator

log = logging.getLogger(__name__)

SOP_USAGE = "/sop · /sop pause ID · /sop resume ID · /sop reload"
BRIEF_USAGE = "/brief add [YYYY-MM-DD] TEXT · /brief [YYYY-MM-DD]"
QA_USAGE = "/qa topic TEXT"


def setup() -> Router:
    router = Router(name="sop_commands")
    router.message.filter(F.from_user, F.text.startswith("/"), InTeamPlace(), IsOperator())
    router.message.register(sop, Command("sop"))
    router.message.register(brief, Command("brief"))
    router.message.register(qa, Command("qa"))
    router.callback_query.register(rsvp, F.data.regexp(rf"^{RSVP_PREFIX}\d{{1,18}}$"))
    return router


async def sop(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
    reload_config: Callable[[], Awaitable[CommunityConfig]],
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split()
    admin, team = services.sop_admin, services.team
    if not words:
        await team.reply(where, who, "sop_list", {"schedules": await admin.schedules(now)}, now)
    elif words[0] in ("pause", "resume") and len(words) == 2:
        schedule_id = words[1]
        if not admin.knows(schedule_id):
            await team.reply(
                where,
                who,
                "sop_unknown",
                {"id": schedule_id, "known": [s.id for s in await admin.schedules(now)]},
                now,
            )
            return
        changed = await (
            admin.pause(schedule_id, who, now)
            if words[0] == "pause"
            else admin.resume(schedule_id, now)
        )
        await team.reply(
            where,
            who,
            "sop_state",
            {"id": schedule_id, "action": words[0], "changed": changed},
            now,
        )
    elif words == ["reload"]:
        try:
            config = await reload_config()
        except ConfigError as error:
            log.warning("reload refused: %s", error)
            await team.reply(where, who, "reload_failed", {"error": str(error)}, now)
            return
        await team.reply(
            where,
            who,
            "reload_ok",
            {"schedules": len(config.schedules), "hooks": len(config.hooks)},
            now,
        )
    else:
        await team.answer_usage(where, who, SOP_USAGE, now)


async def brief(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split(maxsplit=1)
    if words and words[0] == "add" and len(words) == 2:
        day, text = _dated(words[1])
        if not text.strip():
            await services.team.answer_usage(where, who, BRIEF_USAGE, now)
            return
        added_for = await services.sop_admin.add_brief(day, text.strip(), who, now)
        await services.team.reply(where, who, "brief_added", {"day": added_for.isoformat()}, now)
        return
    day, rest = _dated(" ".join(words))
    if rest.strip():
        await services.team.answer_usage(where, who, BRIEF_USAGE, now)
        return
    target = day or services.sop_admin.tomorrow(now)
    await services.team.reply(
        where,
        who,
        "brief_list",
        {"day": target.isoformat(), "items": await services.sop_admin.brief_items(target)},
        now,
    )


async def qa(
    message: Message,
    command: CommandObject,
    services: Services,
    now: datetime,
    event_update: Update,
) -> None:
    assert message.from_user is not None
    where, who = origin(message, event_update), person(message.from_user)
    words = (command.args or "").split(maxsplit=1)
    if len(words) != 2 or words[0] != "topic" or not words[1].strip():
        await services.team.answer_usage(where, who, QA_USAGE, now)
        return
    result = await services.sop_admin.set_qa_topic(words[1].strip(), now)
    if result is None:
        await services.team.reply(where, who, "qa_none", {}, now)
        return
    schedule_id, day = result
    await services.team.reply(
        where, who, "qa_topic_set", {"id": schedule_id, "day": day.isoformat()}, now
    )


def _dated(text: str) -> tuple[date | None, str]:
    """A leading YYYY-MM-DD (returned) and the rest."""
    head, _, rest = text.strip().partition(" ")
    try:
        return date.fromisoformat(head), rest
    except ValueError:
        return None, text


async def rsvp(query: CallbackQuery, services: Services, now: datetime) -> AnswerCallbackQuery:
    assert query.data is not None
    label = await services.sop_admin.rsvp(
        int(query.data.removeprefix(RSVP_PREFIX)), person(query.from_user), now
    )
    return answer(query, services, label, alert=label == "rsvp_no_dm")
