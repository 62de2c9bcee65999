"""The command menus (``setMyCommands`` per scope) end to end: after start the members' menu
for private chats in zh and en, the team's in the team chat; each operator who started the bot
gets the team's in private, nobody else does; a reload that changes the operators changes the
menus; a failing ``setMyCommands`` holds nothing up and is tried again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import SopBot
from bot.config import load_config
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, OPERATOR, TEAM_CHAT, settings_for
from tests.e2e.helpers import run_clock, settle

ANN = 7201


def names(menu: list[dict[str, Any]]) -> list[str]:
    return [command["command"] for command in menu]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "community.yaml"
    path.write_text(CONFIG_YAML)
    return path


@pytest.fixture
async def menus_app(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, config_file: Path
) -> AsyncIterator[SopBot]:
    settings = settings_for(sandbox.url, database_url).model_copy(
        update={"sopbot_config": config_file}
    )
    app = SopBot(settings, load_config(config_file), clock=clock, polling_timeout=1)
    await app.start()
    yield app
    await app.stop()


async def test_menus_per_scope_after_start(
    menus_app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await settle(menus_app, sandbox)
    menus = sandbox.commands
    for language in ("", "zh", "en"):
        member = names(menus[f"all_private_chats:{language}"])
        assert member[:2] == ["start", "mycoupons"] and "help" in member
        assert "kpi" not in member and "invite" not in member  # no referral section
        team = names(menus[f"chat:{TEAM_CHAT}:{language}"])
        assert {"kpi", "tickets", "answer", "close", "help"} <= set(team)
    assert "我的优惠券" in str(menus["all_private_chats:zh"])
    assert "Your coupon codes" in str(menus["all_private_chats:en"])
    assert menus["all_private_chats:"] == menus["all_private_chats:zh"]  # default_locale zh
    # the operator has not started the bot: Telegram knows no private chat with them yet
    assert f"chat:{OPERATOR}:" not in menus

    sandbox.add_user(ANN, "Ann", language_code="en")
    for user in (OPERATOR, ANN):
        sandbox.user_sends(user, "/start")
    await settle(menus_app, sandbox)
    await menus_app.reload_config()  # (or the next pass, within 10 minutes)
    await settle(menus_app, sandbox)
    operator = names(sandbox.visible_commands(OPERATOR, OPERATOR, "en"))
    assert {"kpi", "tickets", "member", "help"} <= set(operator)
    assert "answer" not in operator and "close" not in operator  # team chat only
    assert "Today's figures" in str(sandbox.commands[f"chat:{OPERATOR}:"])  # Olga's language
    member = names(sandbox.visible_commands(ANN, ANN, "en"))
    assert "mycoupons" in member and "kpi" not in member and "tickets" not in member
    assert names(sandbox.visible_commands(TEAM_CHAT, OPERATOR, "en"))[0] == "kpi"


async def test_a_reload_that_drops_an_operator_drops_their_menu(
    menus_app: SopBot, sandbox: TelegramSandbox, config_file: Path
) -> None:
    sandbox.user_sends(OPERATOR, "/start")
    await settle(menus_app, sandbox)
    await menus_app.reload_config()
    await settle(menus_app, sandbox)
    assert "kpi" in names(sandbox.visible_commands(OPERATOR, OPERATOR, "en"))
    dropped = CONFIG_YAML.replace(f"operators: [{OPERATOR}]", "operators: []")
    await asyncio.to_thread(config_file.write_text, dropped)
    await menus_app.reload_config()
    await settle(menus_app, sandbox)
    assert f"chat:{OPERATOR}:" not in sandbox.commands
    assert "kpi" not in names(sandbox.visible_commands(OPERATOR, OPERATOR, "en"))
    deletes = [c for c in sandbox.calls if c.method == "deleteMyCommands"]
    assert len(deletes) == 1 and deletes[0].ok


async def test_a_failing_set_my_commands_holds_nothing_up(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, config_file: Path
) -> None:
    sandbox.fail_next("setMyCommands", 500, "Internal Server Error")
    settings = settings_for(sandbox.url, database_url).model_copy(
        update={"sopbot_config": config_file}
    )
    app = SopBot(settings, load_config(config_file), clock=clock, polling_timeout=1)
    await app.start()
    try:
        sandbox.add_user(ANN, "Ann", language_code="en")
        sandbox.user_sends(ANN, "/help")
        await settle(app, sandbox)
        assert "/mycoupons" in sandbox.sent_messages(ANN)[0].text  # answered meanwhile
        assert sandbox.commands == {}
        # the pass stopped at the failure (the others would fail alike)
        assert len([c for c in sandbox.calls if c.method == "setMyCommands"]) == 1
        await run_clock(app, sandbox, clock, 70, until=lambda: len(sandbox.commands) >= 6)
        assert "all_private_chats:en" in sandbox.commands  # tried again a minute later
    finally:
        await app.stop()


async def test_a_refused_menu_is_logged_and_the_others_are_set(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, config_file: Path
) -> None:
    """The team chat Telegram does not know (the bot was not added yet): that menu is refused
    ("chat not found"), the members' menus are set all the same; the refused one is not asked
    again at each pass, but is after 6 hours (the chat may exist by then)."""
    unknown = CONFIG_YAML.replace(f"chat: {TEAM_CHAT}", "chat: -1009999")
    await asyncio.to_thread(config_file.write_text, unknown)
    settings = settings_for(sandbox.url, database_url).model_copy(
        update={"sopbot_config": config_file}
    )
    app = SopBot(settings, load_config(config_file), clock=clock, polling_timeout=1)
    await app.start()
    try:
        await settle(app, sandbox)
        assert {"all_private_chats:", "all_private_chats:zh", "all_private_chats:en"} <= set(
            sandbox.commands
        )
        refused = [c for c in sandbox.calls if c.method == "setMyCommands" and not c.ok]
        assert refused and all(c.description == "Bad Request: chat not found" for c in refused)
        await run_clock(app, sandbox, clock, 90)
        again = [c for c in sandbox.calls if c.method == "setMyCommands" and not c.ok]
        assert len(again) == len(refused)
        sandbox.add_chat(-1009999, "supergroup", "Team at last")
        clock.advance(hours=6, minutes=5)
        await settle(app, sandbox)
        assert names(sandbox.commands["chat:-1009999:"])[0] == "kpi"
    finally:
        await app.stop()


async def test_the_team_as_it_changes(
    menus_app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """Someone seen in the team chat (not on the operator list) who started the bot gets the
    team's menu in private within 10 minutes; once they leave the team chat, the members'."""
    mate = 7602
    sandbox.add_user(mate, "Mate", language_code="zh")
    sandbox.user_sends(mate, "/start")
    sandbox.user_sends(mate, "早上好", chat_id=TEAM_CHAT)
    await settle(menus_app, sandbox)
    clock.advance(seconds=601)
    await settle(menus_app, sandbox)
    assert names(sandbox.visible_commands(mate, mate, "zh"))[0] == "kpi"
    assert "今日数据" in str(sandbox.commands[f"chat:{mate}:"])
    sandbox.user_leaves(TEAM_CHAT, mate)
    await settle(menus_app, sandbox)
    clock.advance(seconds=601)
    await settle(menus_app, sandbox)
    assert f"chat:{mate}:" not in sandbox.commands
    assert names(sandbox.visible_commands(mate, mate, "zh"))[:2] == ["start", "mycoupons"]


async def test_an_operator_dropped_while_the_bot_was_stopped_gets_the_members_menu(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, config_file: Path
) -> None:
    settings = settings_for(sandbox.url, database_url).model_copy(
        update={"sopbot_config": config_file}
    )
    first = SopBot(settings, load_config(config_file), clock=clock, polling_timeout=1)
    await first.start()
    try:
        sandbox.user_sends(OPERATOR, "/start")
        await settle(first, sandbox)
        await first.reload_config()
        clock.advance(seconds=2)
        sandbox.user_sends(OPERATOR, "/kpi")  # in the audit log as an operator's
        await settle(first, sandbox)
        assert names(sandbox.visible_commands(OPERATOR, OPERATOR, "en"))[0] == "kpi"
    finally:
        await first.stop()
    dropped = CONFIG_YAML.replace(f"operators: [{OPERATOR}]", "operators: []")
    await asyncio.to_thread(config_file.write_text, dropped)
    second = SopBot(settings, load_config(config_file), clock=clock, polling_timeout=1)
    await second.start()
    try:
        await settle(second, sandbox)
        assert f"chat:{OPERATOR}:" not in sandbox.commands
        assert names(sandbox.visible_commands(OPERATOR, OPERATOR, "en"))[:2] == [
            "start",
            "mycoupons",
        ]
    finally:
        await second.stop()
