"""The built-in command menus: every command in them is one the bot answers there, each
locale lists the same commands, and what ``setMyCommands`` would refuse never gets in."""

from __future__ import annotations

import pytest

from bot.feature import team_commands
from bot.features import FEATURES
from bot.rendering import Renderer
from bot.services.desk.menus import parse_menu

#: what members may send the bot in private (docs/commands.md "Member commands")
MEMBER_COMMANDS = {"start", "mycoupons", "invite", "rules", "help"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_member_menu_lists_member_commands_only(renderer: Renderer, locale: str) -> None:
    with_invite = parse_menu(renderer.render("menu_member", locale, {"invite": True}))
    without = parse_menu(renderer.render("menu_member", locale, {"invite": False}))
    assert {name for name, _ in with_invite} <= MEMBER_COMMANDS
    assert [name for name, _ in with_invite] == ["start", "mycoupons", "invite", "rules", "help"]
    assert "invite" not in {name for name, _ in without}


@pytest.mark.parametrize("place", ["team", "private"])
def test_team_menu_lists_team_commands_in_both_languages(renderer: Renderer, place: str) -> None:
    known = set(team_commands(FEATURES)) | {"help"}
    menus = {
        locale: [
            name for name, _ in parse_menu(renderer.render("menu_team", locale, {"place": place}))
        ]
        for locale in ("zh", "en")
    }
    assert menus["zh"] == menus["en"]
    assert set(menus["en"]) <= known
    assert ("answer" in menus["en"]) == (place == "team")  # replies in the team chat only
    assert menus["en"][0] == "kpi" and "help" in menus["en"]


def test_parse_menu_takes_what_telegram_takes() -> None:
    text = "\n".join(
        [
            "/kpi — today's figures",
            "tickets - open conversations",
            "/Bad — capital letters",
            "/x" + "y" * 40 + " — too long a name",
            "/long — " + "d" * 257,
            "just text",
            "/qa — Q&amp;A topic",
        ]
    )
    assert parse_menu(text) == (
        ("kpi", "today's figures"),
        ("tickets", "open conversations"),
        ("qa", "Q&A topic"),
    )
