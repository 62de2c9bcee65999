"""The ``sopbot`` command line: check-config, and run refusing a bad config before Telegram."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import TelegramSandbox
from tests.conftest import CONFIG_YAML, TOKEN

SOPBOT = [sys.executable, "-m", "bot"]
EXAMPLE = Path(__file__).parent.parent / "fixtures" / "community.example.yaml"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SOPBOT, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_check_config_summarises_a_good_file() -> None:
    result = _run("check-config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "Asia/Shanghai" in result.stdout and "-1002001" in result.stdout


def test_check_config_names_the_key_and_line_of_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("within: 30m", "within: soon"))
    result = _run("check-config", str(bad))
    assert result.returncode == 2
    line = CONFIG_YAML.replace("within: 30m", "within: soon").splitlines().index("  within: soon") + 1
    assert f"{bad}:{line}: welcome.within" in result.stderr
    assert "Traceback" not in result.stderr


async def test_run_with_a_bad_config_exits_2_before_touching_telegram(tmp_path: Path) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("chat_id: -1002001", "chat_id: 1002001"))
    sandbox = TelegramSandbox(token=TOKEN)
    await sandbox.start()
    try:
        import asyncio

        result = await asyncio.to_thread(_run, "run", env={
            "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": sandbox.url, "SOPBOT_CONFIG": str(bad),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"})
        assert result.returncode == 2
        assert "communities[0].chat_id" in result.stderr
        assert sandbox.calls == []
        assert not (tmp_path / "x.db").exists()
    finally:
        await sandbox.stop()


def test_run_without_a_token_says_so(tmp_path: Path) -> None:
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    result = subprocess.run([*SOPBOT, "run"], capture_output=True, text=True, timeout=60,
                            env={**env, "SOPBOT_CONFIG": str(config)})
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["nonsense"], []])
def test_unknown_subcommands_get_usage(argv: list[str]) -> None:
    result = _run(*argv)
    assert result.returncode == 2 and "usage:" in result.stderr
