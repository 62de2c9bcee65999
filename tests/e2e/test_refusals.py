"""Team commands from members in a community: no figures, and at most one short notice per
member per hour (by DM when the member can be messaged), so that refusals cannot crowd the
group's 20 messages a minute out — a newcomer is greeted on time however many /kpi came first."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import AuditEntry
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, settings_for
from tests.e2e.helpers import settle

SPAMMER = 4400
NEWCOMER = 4500


def _notices(sandbox: TelegramSandbox, chat: int | None = None) -> list[str]:
    return [m.text for m in sandbox.sent_messages(chat) if "team only" in m.text]


def _no_figures_anywhere(sandbox: TelegramSandbox) -> None:
    for message in sandbox.sent_messages():
        assert "Members" not in message.text and "Joins" not in message.text, message.text
    for text in _notices(sandbox):
        assert not re.search(r"\d", text)


async def _member_in_the_group(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, *, started: bool
) -> None:
    sandbox.add_user(user, f"Member{user}", language_code="en")
    if started:
        sandbox.user_sends(user, "/start")
    sandbox.user_joins(COMMUNITY, user)
    await settle(app, sandbox)
    clock.advance(minutes=3)  # their own greeting goes out
    await settle(app, sandbox)


async def _audited(app: SopBot, user: int) -> list[str]:
    async with app.sessions() as session:
        return list(
            (
                await session.execute(
                    select(AuditEntry.result)
                    .where(AuditEntry.user_id == user)
                    .order_by(AuditEntry.id)
                )
            ).scalars()
        )


async def test_a_hundred_kpi_get_one_notice_and_the_newcomer_is_greeted_on_time(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _member_in_the_group(app, sandbox, clock, SPAMMER, started=False)
    sandbox.add_user(NEWCOMER, "Nina", language_code="en")
    before = len(sandbox.sent_messages(COMMUNITY))

    for i in range(100):
        if i == 50:
            sandbox.user_joins(COMMUNITY, NEWCOMER)
        sandbox.user_sends(SPAMMER, "/kpi", chat_id=COMMUNITY)
    await settle(app, sandbox)
    clock.advance(minutes=3)  # the newcomer's greeting is due (group_batch 2m)
    await settle(app, sandbox)

    since = [m.text for m in sandbox.sent_messages(COMMUNITY)[before:]]
    assert len(since) == 2, since  # one notice and the greeting, no more
    assert len(_notices(sandbox, COMMUNITY)) == 1  # not reachable by DM: in the group
    assert sum("Nina" in text for text in since) == 1
    assert sandbox.sent_messages(SPAMMER) == []
    _no_figures_anywhere(sandbox)
    assert await _audited(app, SPAMMER) == ["refused"] * 100  # every one is still in the log

    # within the hour: silence; once the hour has passed, one more notice
    clock.advance(minutes=50)  # 53 minutes after the notice
    sandbox.user_sends(SPAMMER, "/kpi", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert len(_notices(sandbox, COMMUNITY)) == 1
    clock.advance(timedelta(minutes=4))  # 57
    sandbox.user_sends(SPAMMER, "/member 1", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert len(_notices(sandbox, COMMUNITY)) == 1
    clock.advance(minutes=3)  # an hour
    sandbox.user_sends(SPAMMER, "/kpi", chat_id=COMMUNITY)
    await settle(app, sandbox)
    assert len(_notices(sandbox, COMMUNITY)) == 2
    _no_figures_anywhere(sandbox)


async def test_a_member_who_started_the_bot_is_told_in_private(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _member_in_the_group(app, sandbox, clock, SPAMMER, started=True)
    in_private = len(sandbox.sent_messages(SPAMMER))
    before = len(sandbox.sent_messages(COMMUNITY))
    for command in ("/kpi", "/export members", "/member 1", "/kpi", "/audit"):
        sandbox.user_sends(SPAMMER, command, chat_id=COMMUNITY)
    await settle(app, sandbox)
    clock.advance(seconds=2)
    await settle(app, sandbox)
    assert sandbox.sent_messages(COMMUNITY)[before:] == []
    [notice] = [m.text for m in sandbox.sent_messages(SPAMMER)[in_private:]]
    assert "team only" in notice
    _no_figures_anywhere(sandbox)
    # a refusal asked for in private is answered each time (it costs the group nothing)
    clock.advance(seconds=2)
    sandbox.user_sends(SPAMMER, "/kpi")
    await settle(app, sandbox)
    assert len(_notices(sandbox, SPAMMER)) == 2
    assert await _audited(app, SPAMMER) == ["refused"] * 6


async def test_the_hour_holds_across_a_restart(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    first = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await first.start()
    try:
        await _member_in_the_group(first, sandbox, clock, SPAMMER, started=False)
        sandbox.user_sends(SPAMMER, "/kpi", chat_id=COMMUNITY)
        await settle(first, sandbox)
    finally:
        await first.stop()
    assert len(_notices(sandbox, COMMUNITY)) == 1
    clock.advance(minutes=30)
    second = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        sandbox.user_sends(SPAMMER, "/kpi", chat_id=COMMUNITY)
        await settle(second, sandbox)
        assert len(_notices(sandbox, COMMUNITY)) == 1
        assert await _audited(second, SPAMMER) == ["refused"] * 2
    finally:
        await second.stop()
