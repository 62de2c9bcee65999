"""``sopbot run`` as an operator starts it: a real process, real time, against the sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sandbox import TelegramSandbox
from tests.conftest import CONFIG_YAML, TOKEN, unused_port


async def test_sopbot_run_migrates_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    sandbox = TelegramSandbox(token=TOKEN)
    await sandbox.start()
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": sandbox.url,
        "SOPBOT_CONFIG": str(config),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        sandbox.add_user(2101, "Mia", language_code="en")
        sandbox.user_sends(2101, "/start src_poster")
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(2101)) == 1, timeout=30)
        assert "Welcome, Mia" in sandbox.sent_messages(2101)[0].text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        await sandbox.stop()
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert TOKEN not in log and TOKEN.split(":")[1] not in log  # the secret is never logged
    assert "Traceback" not in log


def test_an_unusable_database_is_one_line_from_the_real_process(tmp_path: Path) -> None:
    """With the process's own logging (not pytest's), a closed PostgreSQL port is one line on
    stderr naming DATABASE_URL with the password masked, exit 2, no traceback."""
    password = "S3cret-db-pw"
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": "http://127.0.0.1:9",  # never reached
        "SOPBOT_CONFIG": str(config),
        "DATABASE_URL": f"postgresql+asyncpg://sop:{password}@127.0.0.1:{unused_port()}/sop",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0] and "sop:***@127.0.0.1" in lines[0]
    assert "cannot connect" in lines[0]
    assert password not in result.stderr and "Traceback" not in result.stderr
