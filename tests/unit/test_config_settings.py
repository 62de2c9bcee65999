"""Process settings come from the environment only, and the token never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.errors import ConfigError

VARIABLES = (
    "BOT_TOKEN",
    "TELEGRAM_API_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "SOPBOT_CONFIG",
    "WEBHOOK_URL",
    "SOPBOT_LOG_LEVEL",
    "LOG_LEVEL",
)
TOKEN = "123456:SECRET-token-value"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_contract() -> None:
    settings = Settings()

    assert settings.bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_url == "sqlite+aiosqlite:///./sopbot.db"
    assert settings.redis_url is None
    assert settings.sopbot_config == Path("community.yaml")
    assert settings.webhook_url is None
    assert settings.log_level == "INFO"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
        "DATABASE_URL": "postgresql+asyncpg://u@h/db",
        "REDIS_URL": "redis://localhost",
        "SOPBOT_CONFIG": "/etc/sopbot/community.yaml",
        "WEBHOOK_URL": "https://x.example/hook",
        "SOPBOT_LOG_LEVEL": "debug",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.require_bot_token() == TOKEN
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.redis_url == "redis://localhost"
    assert settings.sopbot_config == Path("/etc/sopbot/community.yaml")
    assert settings.webhook_url == "https://x.example/hook"
    assert settings.log_level == "DEBUG"


def test_token_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = Settings()

    for shown in (str(settings), repr(settings), settings.model_dump_json()):
        assert TOKEN not in shown


def test_dotenv_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nDATABASE_URL=sqlite:///x\n", "utf-8")
    settings = Settings()
    assert settings.bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///./sopbot.db"


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "")
    monkeypatch.setenv("REDIS_URL", "")
    settings = Settings()
    assert settings.bot_token is None and settings.redis_url is None


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="BOT_TOKEN is not set"):
        Settings().require_bot_token()


def test_log_level_by_keyword_and_stray_log_level_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert Settings().log_level == "INFO"
    # the keyword goes through Settings._log_level_by_name, which the pydantic plugin cannot see
    assert Settings(log_level="warning").log_level == "WARNING"  # type: ignore[call-arg]


def test_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPBOT_LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError, match="SOPBOT_LOG_LEVEL"):
        Settings()
