"""A database sopbot cannot use is one line naming DATABASE_URL, exit 2, no traceback
(hardening item 10): a closed port, an unknown driver, a missing SQLite folder, not a URL.
The real process says the same (``tests/e2e/test_cli_run.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.config import Settings
from tests.conftest import CONFIG_YAML, TOKEN, unused_port

PASSWORD = "S3cret-db-pw"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    for name in ("WEBHOOK_URL", "ORDERS_SECRET", "REDIS_URL", "SOPBOT_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("SOPBOT_CONFIG", str(config))
    factory = logging.getLogRecordFactory()
    yield tmp_path
    logging.setLogRecordFactory(factory)  # ``sopbot run`` redacts for the rest of its process


def run_with(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(list(argv or ["run"]))
    captured = capsys.readouterr()
    return code, captured.err


def assert_one_line(stderr: str, *expected: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "DATABASE_URL" in lines[0] and "Traceback" not in stderr
    assert PASSWORD not in stderr
    for text in expected:
        assert text in lines[0], lines[0]


def test_a_closed_postgresql_port(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = unused_port()
    code, stderr = run_with(
        f"postgresql+asyncpg://sop:{PASSWORD}@127.0.0.1:{port}/sop", monkeypatch, capsys
    )
    assert code == 2
    assert_one_line(
        stderr, f"postgresql+asyncpg://sop:***@127.0.0.1:{port}/sop", "cannot connect", "refused"
    )


def test_an_unknown_driver(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stderr = run_with(f"mysql+aiomysql://sop:{PASSWORD}@db.example/sop", monkeypatch, capsys)
    assert code == 2
    assert_one_line(stderr, "mysql+aiomysql", "sqlite+aiosqlite", "postgresql+asyncpg")


def test_a_missing_sqlite_folder(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = environment / "no" / "such"
    code, stderr = run_with(f"sqlite+aiosqlite:///{folder}/bot.db", monkeypatch, capsys)
    assert code == 2
    assert_one_line(stderr, str(folder))
    assert not folder.exists()


def test_not_a_url(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stderr = run_with("not a url", monkeypatch, capsys)
    assert code == 2
    assert_one_line(stderr, "'not a url'")


def test_import_orders_says_the_same(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = environment / "orders.csv"
    orders.write_text("order_id,member_id,amount,time\nA1,2101,10,2026-11-20T10:00:00+08:00\n")
    port = unused_port()
    code, stderr = run_with(
        f"postgresql+asyncpg://sop:{PASSWORD}@127.0.0.1:{port}/sop",
        monkeypatch,
        capsys,
        "import-orders",
        str(orders),
    )
    assert code == 2
    assert_one_line(stderr, "sop:***@127.0.0.1", "cannot connect")


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "postgresql://u@h/db", "not a url", "mysql+aiomysql://u:pw@h/db", ""]
)
def test_settings_refuse_what_sopbot_cannot_drive(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=url)
    message = caught.value.errors()[0]["msg"]
    assert "DATABASE_URL" in message and "pw@" not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///./sopbot.db",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://u:pw@h:5432/db",
        "postgresql+asyncpg:///db",
    ],
)
def test_settings_take_the_two_drivers(url: str) -> None:
    assert Settings(database_url=url).database_url == url
