"""Files through the outbox: bytes stored with the row, streamed to Telegram, cleaned up, and
still there after a crash."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import OutboxFile, OutboxFileChunk, OutboxMessage
from bot.db.repositories.files import CHUNK
from bot.runtime import services_for
from bot.services.files import FileRejectedError
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import TEAM_CHAT, settings_for
from tests.e2e.helpers import settle


async def _queue(app: SopBot, **kwargs: Any) -> int | None:
    assert app.runtime is not None
    async with app.db.transaction() as session:
        messenger = services_for(app.runtime, session).messenger
        row = await messenger.send_file(now=app.clock.now(), **kwargs)
    app.delivery.wake()
    return row


async def _stored(app: SopBot) -> tuple[int, int]:
    async with app.sessions() as session:
        files = (await session.execute(select(func.count()).select_from(OutboxFile))).scalar_one()
        chunks = (
            await session.execute(select(func.count()).select_from(OutboxFileChunk))
        ).scalar_one()
    return int(files), int(chunks)


async def test_a_document_goes_out_with_its_bytes_name_and_caption(
    app: SopBot, sandbox: TelegramSandbox, tmp_path: Path
) -> None:
    body = os.urandom(2 * CHUNK + 123)  # three slices
    path = tmp_path / "members.csv"
    path.write_bytes(body)
    row = await _queue(
        app,
        key="test:file:1",
        chat_id=TEAM_CHAT,
        chat_kind="group",
        purpose="export",
        kind="document",
        filename="members.csv",
        path=path,
        caption_template="usage",
        locale="en",
        context={"usage": "<3 rows>"},
    )
    assert row is not None
    await sandbox.wait_for(lambda: len(sandbox.sent_files(TEAM_CHAT)) == 1)
    await settle(app, sandbox)
    [sent] = sandbox.sent_files(TEAM_CHAT)
    assert (sent.kind, sent.filename, sent.data) == ("document", "members.csv", body)
    assert "&lt;3 rows&gt;" in sent.caption  # the template's escaping holds
    assert await _stored(app) == (0, 0)  # dropped once delivered
    # the same key again is the same effect: nothing queued, nothing stored
    assert (
        await _queue(
            app,
            key="test:file:1",
            chat_id=TEAM_CHAT,
            chat_kind="group",
            purpose="export",
            kind="document",
            filename="members.csv",
            data=b"again",
        )
        is None
    )
    assert await _stored(app) == (0, 0)


async def test_a_photo_goes_out_as_a_photo(app: SopBot, sandbox: TelegramSandbox) -> None:
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    await _queue(
        app,
        key="test:photo",
        chat_id=TEAM_CHAT,
        chat_kind="group",
        purpose="chart",
        kind="photo",
        filename="chart.png",
        data=image,
    )
    await sandbox.wait_for(lambda: len(sandbox.sent_files(TEAM_CHAT)) == 1)
    sent = sandbox.sent_files(TEAM_CHAT)[0]
    assert (sent.kind, sent.data) == ("photo", image)
    assert sandbox.sent_messages(TEAM_CHAT)[0].method == "sendPhoto"


async def test_files_over_telegrams_limits_are_refused_before_queueing(app: SopBot) -> None:
    with pytest.raises(FileRejectedError, match="10 MB limit for a photo"):
        await _queue(
            app,
            key="test:big-photo",
            chat_id=TEAM_CHAT,
            chat_kind="group",
            purpose="chart",
            kind="photo",
            filename="big.png",
            data=b"\x89PNG" + b"\x00" * (10 * 1024 * 1024),
        )
    with pytest.raises(FileRejectedError, match="empty"):
        await _queue(
            app,
            key="test:empty",
            chat_id=TEAM_CHAT,
            chat_kind="group",
            purpose="export",
            kind="document",
            filename="e.csv",
            data=b"",
        )
    async with app.sessions() as session:
        assert (
            await session.execute(select(func.count()).select_from(OutboxMessage))
        ).scalar_one() == 0


async def test_a_refused_file_fails_its_row_and_is_dropped(
    app: SopBot, sandbox: TelegramSandbox
) -> None:
    await _queue(
        app,
        key="test:not-image",
        chat_id=TEAM_CHAT,
        chat_kind="group",
        purpose="chart",
        kind="photo",
        filename="x.png",
        data=b"plain text",
    )
    await settle(app, sandbox)
    assert sandbox.sent_files() == []
    async with app.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert row.status == "failed" and "IMAGE_PROCESS_FAILED" in (row.last_error or "")
    assert await _stored(app) == (0, 0)


async def test_a_file_queued_before_a_crash_is_sent_once_after_the_restart(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> None:
    settings = settings_for(sandbox.url, database_url)
    body = os.urandom(CHUNK + 7)
    first = SopBot(settings, config, clock=clock, polling_timeout=1)
    await first.start()
    sandbox.delay("sendDocument", 30)  # the upload hangs: claimed, in flight
    await _queue(
        first,
        key="test:crash",
        chat_id=TEAM_CHAT,
        chat_kind="group",
        purpose="export",
        kind="document",
        filename="export.csv",
        data=body,
    )
    await sandbox.wait_for(lambda: first.delivery.held > 0)
    await first.abort()  # killed mid-upload
    sandbox.delay("sendDocument", 0)
    assert await _stored_in(database_url) == (1, 2)

    second = SopBot(settings, config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        for _ in range(12):  # the dead sender's lease runs out
            clock.advance(seconds=10)
            await settle(second, sandbox)
        files = sandbox.sent_files(TEAM_CHAT)
        assert [(f.filename, f.data) for f in files] == [("export.csv", body)]
        assert await _stored(second) == (0, 0)
    finally:
        await second.stop()


async def _stored_in(database_url: str) -> tuple[int, int]:
    from bot.db.session import Database

    db = Database(database_url)
    try:
        async with db.sessions() as session:
            files = (
                await session.execute(select(func.count()).select_from(OutboxFile))
            ).scalar_one()
            chunks = (
                await session.execute(select(func.count()).select_from(OutboxFileChunk))
            ).scalar_one()
        return int(files), int(chunks)
    finally:
        await db.dispose()


async def test_files_for_a_member_who_blocked_the_bot_are_dropped(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(7501, "Gone")
    sandbox.user_sends(7501, "/start")
    await settle(app, sandbox)
    sandbox.block_bot(7501)
    clock.advance(seconds=2)
    for n in range(3):  # the first fails unreachable; the rest are failed with it, unsent
        await _queue(
            app,
            key=f"test:blocked:{n}",
            chat_id=7501,
            chat_kind="private",
            purpose="export",
            kind="document",
            filename=f"{n}.csv",
            data=b"x" * 10,
        )
    for _ in range(3):  # a row claimed meanwhile waits for the chat's limit, then fails too
        await settle(app, sandbox)
        clock.advance(seconds=2)
    assert sandbox.sent_files() == []
    async with app.sessions() as session:
        statuses = {
            r.status
            for r in (
                await session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.chat_id == 7501, OutboxMessage.purpose == "export"
                    )
                )
            ).scalars()
        }
    assert statuses == {"failed"}
    assert await _stored(app) == (0, 0)
