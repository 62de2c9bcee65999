"""A dashboard write as the page framework runs it: only with the CSRF token of its credential,
in one transaction with its audit entry (as the operator, ``/audit`` shows it), then back to the
page; the JSON API behind the same doors. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.dashboard.page import ActionResult, Page, PageContext
from bot.dashboard.pages import overview
from bot.dashboard.server import DashboardServer
from bot.db.models import AuditEntry
from bot.services import Services
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR
from tests.e2e.dashboard_support import PUBLIC_URL, dashboard_app, fetch, init_data
from tests.e2e.helpers import settle

CALLS: list[str] = []


async def _view(ctx: PageContext) -> dict[str, Any]:
    return {}


async def _note(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
    """A write that says what it got (the members and calendar pages' writes are dashpages')."""
    CALLS.append(form.get("text", ""))
    if not form.get("text"):
        return ActionResult(audit="(empty)", notice="no_data", ok=False)
    return ActionResult(audit=f"note {form['text']}", notice="today")


async def _boom(ctx: PageContext, services: Services, form: Mapping[str, str]) -> ActionResult:
    await services.audit.record(  # something it did, which must not be kept
        _fake_call(ctx), "ok", ctx.now
    )
    raise ValueError("a bug")


def _fake_call(ctx: PageContext) -> Any:
    from bot.services.records.audit import CommandCall

    return CommandCall("dashboard", "half done", None, ctx.origin(), ctx.person())


NOTES = Page(
    name="notes",
    path="notes",
    template="shell.html.j2",
    view=_view,
    actions={"add": _note, "boom": _boom},
    nav=False,
)


@pytest.fixture
async def dash(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[tuple[SopBot, DashboardServer]]:
    CALLS.clear()
    async with dashboard_app(sandbox, config, clock, database_url) as app:
        assert app.dashboard is not None and app.runtime is not None
        server = DashboardServer(
            PUBLIC_URL, "127.0.0.1:0", app.runtime, app.dashboard.auth, [overview.PAGE, NOTES]
        )
        stop = asyncio.Event()
        task = asyncio.create_task(server.serve(stop))
        await asyncio.wait_for(server.ready.wait(), 10)
        try:
            yield app, server
        finally:
            stop.set()
            await task


async def _post(
    server: DashboardServer,
    path: str,
    data: str,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> tuple[int, str | None]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/{path}",
            data=form,
            allow_redirects=False,
            headers={"X-Telegram-Init-Data": data, **(headers or {})},
        ) as response,
    ):
        return response.status, response.headers.get("Location")


async def _csrf(app: SopBot, data: str) -> str:
    """The token the page gives the signed-in operator (its meta line)."""
    status, body, _ = await fetch(app, data=data)
    found = re.search(r'data-csrf="([0-9a-f]{64})"', body)
    assert status == 200 and found
    return found.group(1)


async def _audit(app: SopBot) -> list[tuple[int, str, str, str]]:
    async with app.db.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(e.user_id, e.command, e.args, e.result) for e in rows]


async def test_a_write_needs_its_csrf_token_and_is_audited(
    dash: tuple[SopBot, DashboardServer], clock: ManualClock
) -> None:
    app, server = dash
    data = init_data(clock.now())
    csrf = await _csrf(app, data)
    bad: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"text": "x"}, {}),
        ({"text": "x", "_csrf": "f" * 64}, {}),
        ({"text": "x"}, {"X-CSRF-Token": csrf[:-1]}),
    ]
    for form, headers in bad:
        assert (await _post(server, "notes/add", data, form, headers))[0] == 403
    other = init_data(clock.now(), age=120)  # another sign-in's token does not fit
    assert (await _post(server, "notes/add", other, {"text": "x", "_csrf": csrf}))[0] == 403
    assert CALLS == [] and await _audit(app) == []
    status, where = await _post(server, "notes/add", data, {"text": "早报", "_csrf": csrf})
    assert (status, where) == (303, "/notes?notice=today")
    status, _ = await _post(server, "notes/add", data, {"text": ""}, {"X-CSRF-Token": csrf})
    assert status == 303
    assert CALLS == ["早报", ""]
    assert await _audit(app) == [
        (OPERATOR, "dashboard", "notes.add note 早报", "ok"),
        (OPERATOR, "dashboard", "notes.add (empty)", "usage"),
    ]


async def test_a_failing_write_keeps_nothing_and_is_audited_as_an_error(
    dash: tuple[SopBot, DashboardServer], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    app, server = dash
    data = init_data(clock.now())
    csrf = await _csrf(app, data)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/notes/boom",
            data={"_csrf": csrf},
            headers={"X-Telegram-Init-Data": data},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 500
        body = await response.text()
    assert "Traceback" not in body and "nothing was changed" in body
    assert await _audit(app) == [(OPERATOR, "dashboard", "notes.boom", "error")]
    assert "notes.boom failed" in caplog.text


async def test_audit_shows_the_dashboard_writes(
    dash: tuple[SopBot, DashboardServer], sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    app, server = dash
    data = init_data(clock.now())
    csrf = await _csrf(app, data)
    assert (await _post(server, "notes/add", data, {"text": "hello", "_csrf": csrf}))[0] == 303
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, "/audit")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)
    assert "notes.add note hello" in sandbox.sent_messages(OPERATOR)[0].text


async def test_the_json_api_behind_the_same_doors(
    dash: tuple[SopBot, DashboardServer], sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    app, _ = dash
    sandbox.add_user(9201, "K")
    sandbox.user_joins(COMMUNITY, 9201)
    await settle(app, sandbox)
    status, body, _ = await fetch(app, "api/overview", data=init_data(clock.now()))
    assert status == 200
    answer = json.loads(body)
    assert answer["communities"][0]["figures"]["joins"]["value"] == 1
    assert answer["series"]["joins"][-1] == 1 and len(answer["days"]) == 30
    forged = init_data(clock.now(), token="1:other")
    status, body, _ = await fetch(app, "api/overview", data=forged)
    assert status == 403 and not re.search(r"figures|series", body)
