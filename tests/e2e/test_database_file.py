"""The SQLite file deleted or replaced under the running bot: it stops with a clear error (and
``sopbot run`` exits non-zero) instead of writing on into a file nobody will open again; a fresh
database made at start-up is watched without a false alarm."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.session import DatabaseFileError
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, TOKEN, settings_for
from tests.e2e.helpers import settle


@pytest.fixture
async def sqlite_app(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[tuple[SopBot, Path]]:
    path = tmp_path / "sopbot.db"
    assert not path.exists()  # a fresh database, made at start-up
    bot = SopBot(
        settings_for(sandbox.url, f"sqlite+aiosqlite:///{path}"),
        config,
        clock=clock,
        polling_timeout=1,
    )
    bot.db.file_check_every = 0.02
    await bot.start()
    yield bot, path
    await bot.stop()


async def _running_fine(app: SopBot, sandbox: TelegramSandbox) -> None:
    sandbox.add_user(7001, "Mia")
    sandbox.user_sends(7001, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(7001)) == 1)
    await settle(app, sandbox)
    await asyncio.sleep(0.1)  # several checks of the fresh file: no false alarm
    app.db.check_file()
    waiter = asyncio.ensure_future(app.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    waiter.cancel()


async def test_the_file_deleted_while_running_stops_the_bot(
    sqlite_app: tuple[SopBot, Path], sandbox: TelegramSandbox
) -> None:
    app, path = sqlite_app
    await _running_fine(app, sandbox)
    path.unlink()
    with pytest.raises(DatabaseFileError, match="was deleted while the bot ran") as caught:
        await asyncio.wait_for(app.wait(), 30)
    assert str(path) in str(caught.value)


async def test_the_file_replaced_while_running_stops_the_bot(
    sqlite_app: tuple[SopBot, Path], sandbox: TelegramSandbox, tmp_path: Path
) -> None:
    app, path = sqlite_app
    await _running_fine(app, sandbox)
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    os.replace(other, path)
    with pytest.raises(DatabaseFileError, match="was replaced by another file"):
        await asyncio.wait_for(app.wait(), 30)


async def test_sopbot_run_exits_non_zero_with_the_error(tmp_path: Path) -> None:
    sandbox = TelegramSandbox(token=TOKEN)
    await sandbox.start()
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    database = tmp_path / "bot.db"
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": sandbox.url,
        "SOPBOT_CONFIG": str(config),
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    # the real process, looking at the file every 0.2 s instead of every 10 s
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, bot.db.session as s; s.FILE_CHECK_EVERY = 0.2; "
        "from bot.__main__ import main; sys.exit(main(['run']))",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        sandbox.add_user(2101, "Mia", language_code="en")
        sandbox.user_sends(2101, "/start")
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(2101)) == 1, timeout=30)
        database.unlink()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.communicate()
        await sandbox.stop()
    log = stderr.decode()
    assert process.returncode == 1, log
    assert f"the database file {database} was deleted while the bot ran" in log
    assert "Traceback" not in log
