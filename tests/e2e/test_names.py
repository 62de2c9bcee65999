"""Names are text strangers choose: a bidi override in one (U+202E shows the rest of the line
reversed) never reaches a message the bot sends."""

from __future__ import annotations

import pytest

from bot.app import SopBot
from bot.telegram_html import BIDI_CONTROLS
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY
from tests.e2e.helpers import settle

CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_every_control_the_issue_names_is_stripped() -> None:
    assert frozenset(CONTROLS) == BIDI_CONTROLS


@pytest.mark.parametrize("name", ["\u202eevil", f"Ma{CONTROLS}ry\u202e"])
async def test_a_name_with_bidi_controls_is_greeted_without_them(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, name: str
) -> None:
    sandbox.add_user(6001, name)
    sandbox.user_joins(COMMUNITY, 6001)
    sandbox.add_user(6003, name)  # the gift DM says the name too
    sandbox.user_sends(6003, "/start")
    await settle(app, sandbox)
    clock.advance(minutes=2)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    await settle(app, sandbox)
    greeting = sandbox.sent_messages(COMMUNITY)[0].text
    assert "tg://user?id=6001" in greeting
    visible = name.translate({ord(c): None for c in CONTROLS})
    assert visible in greeting
    dm = sandbox.sent_messages(6003)[0].text
    for text in (greeting, dm):
        assert not set(text) & set(CONTROLS), [hex(ord(c)) for c in text if c in CONTROLS]
