"""The dashboard's doors over HTTP: init data checked as the contract says (hash, 24 h,
operator), one-time login links, session cookies, CSRF on writes; every refusal is 403 with no
figures. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TEAM_CHAT
from tests.e2e.dashboard_support import LOGIN, dashboard_app, fetch, init_data
from tests.e2e.helpers import settle

#: a figure row of the overview (none on a refused page)
FIGURE = re.compile(r'data-figure="')
STRANGER = 4242


@pytest.fixture
async def dash(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[SopBot]:
    sandbox.add_user(STRANGER, "Stranger", language_code="en")
    async with dashboard_app(sandbox, config, clock, database_url) as app:
        yield app


async def _login_link(app: SopBot, sandbox: TelegramSandbox, user: int = OPERATOR) -> str:
    await settle(app, sandbox)
    before = len(sandbox.sent_messages(user))
    sandbox.user_sends(user, "/dashboard")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(user)) == before + 1)
    sent = sandbox.sent_messages(user)[-1]
    found = LOGIN.search(str(sent.reply_markup))
    assert found, sent
    return found.group(1)


async def test_valid_init_data_shows_the_figures(dash: SopBot, clock: ManualClock) -> None:
    status, body, headers = await fetch(dash, data=init_data(clock.now()))
    assert status == 200 and FIGURE.search(body)
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    # without credentials: the frame, its own script, no figures
    status, body, _ = await fetch(dash)
    assert status == 200 and not FIGURE.search(body) and "static/dashboard.js" in body
    assert "telegram.org/js" not in body


@pytest.mark.parametrize(
    "forge",
    [
        lambda now: init_data(now, token="424242:another-bots-token"),  # forged hash
        lambda now: init_data(now).replace("olga", "olgb"),  # altered after signing
        lambda now: init_data(now, age=24 * 3600 + 60),  # stale auth_date
        lambda now: init_data(now, user_id=STRANGER),  # not an operator
        lambda now: re.sub(r"&?hash=[0-9a-f]+", "", init_data(now)),  # no hash
        lambda now: "garbage",
    ],
    ids=["forged", "altered", "stale", "non-operator", "unsigned", "garbage"],
)
async def test_bad_init_data_is_403_without_figures(
    dash: SopBot, clock: ManualClock, forge: object
) -> None:
    assert callable(forge)
    status, body, _ = await fetch(dash, data=forge(clock.now()))
    assert status == 403 and not FIGURE.search(body)
    assert 'data-state="denied"' in body


async def test_a_login_link_works_once_and_sets_a_strict_cookie(
    dash: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    token = await _login_link(dash, sandbox)
    markup = sandbox.sent_messages(OPERATOR)[-1].reply_markup
    assert markup is not None
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert buttons[0]["web_app"] == {"url": "https://dash.example.test/"}
    status, body, _ = await fetch(dash, f"login/{token}")  # a GET spends nothing
    assert status == 200 and not FIGURE.search(body)
    status, _, headers = await fetch(dash, f"login/{token}", method="POST")
    assert status == 303
    cookie = headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert flag in cookie, cookie
    value = re.search(r"sopbot_dashboard=([^;]+)", cookie)
    assert value
    status, body, _ = await fetch(dash, cookie=value.group(1))
    assert status == 200 and FIGURE.search(body)
    # replayed: refused, no new session
    status, body, headers = await fetch(dash, f"login/{token}", method="POST")
    assert status == 403 and "Set-Cookie" not in headers and not FIGURE.search(body)


async def test_a_login_link_expires_after_ten_minutes(
    dash: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    token = await _login_link(dash, sandbox)
    clock.advance(timedelta(minutes=10, seconds=1))
    status, _, headers = await fetch(dash, f"login/{token}", method="POST")
    assert status == 403 and "Set-Cookie" not in headers


async def test_a_stranger_gets_the_refusal_and_no_button(
    dash: SopBot, sandbox: TelegramSandbox
) -> None:
    await settle(dash, sandbox)
    sandbox.user_sends(STRANGER, "/dashboard")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(STRANGER)) == 1)
    sent = sandbox.sent_messages(STRANGER)[0]
    assert sent.reply_markup is None and "/login/" not in sent.text


async def test_a_removed_operator_loses_the_session_at_once(
    dash: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    teammate = 3003
    sandbox.add_user(teammate, "Tess", language_code="en")
    sandbox.user_joins(TEAM_CHAT, teammate)
    await settle(dash, sandbox)
    token = await _login_link(dash, sandbox, teammate)
    _, _, headers = await fetch(dash, f"login/{token}", method="POST")
    cookie = re.search(r"sopbot_dashboard=([^;]+)", headers["Set-Cookie"])
    assert cookie
    data = init_data(clock.now(), teammate)
    assert (await fetch(dash, cookie=cookie.group(1)))[0] == 200
    assert (await fetch(dash, data=data))[0] == 200
    sandbox.user_leaves(TEAM_CHAT, teammate)
    await settle(dash, sandbox)
    for status, body, _ in (
        await fetch(dash, cookie=cookie.group(1)),
        await fetch(dash, data=data),
    ):
        assert status == 403 and not FIGURE.search(body)


async def test_a_write_without_its_csrf_token_is_403(dash: SopBot, clock: ManualClock) -> None:
    data = init_data(clock.now())
    status, body, _ = await fetch(dash, data=data)
    csrf = re.search(r'data-csrf="([0-9a-f]+)"', body)
    assert status == 200 and csrf
    for form in ({}, {"_csrf": "0" * 64}):
        status, body, _ = await fetch(dash, "logout", method="POST", data=data, form=form)
        assert status == 403 and not FIGURE.search(body)


async def test_dashboard_in_the_team_chat_points_to_the_private_chat(
    dash: SopBot, sandbox: TelegramSandbox
) -> None:
    await settle(dash, sandbox)
    sandbox.user_sends(OPERATOR, "/dashboard", chat_id=TEAM_CHAT)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(TEAM_CHAT)) == 1)
    sent = sandbox.sent_messages(TEAM_CHAT)[0]
    assert sent.reply_markup is None and "/login/" not in sent.text
    assert "private" in sent.text or "私聊" in sent.text


async def test_dashboard_off_says_so(app: SopBot, sandbox: TelegramSandbox) -> None:
    assert app.dashboard is None  # DASHBOARD_URL and DASHBOARD_LISTEN unset
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, "/dashboard")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)
    sent = sandbox.sent_messages(OPERATOR)[0]
    assert sent.reply_markup is None and "DASHBOARD_URL" in sent.text
