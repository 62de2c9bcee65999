"""Process settings from the environment (see CONTRACT.md); the token stays a ``SecretStr``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.urls import check_dashboard_url, check_listen
from bot.db.url import check_database_url
from bot.errors import ConfigError

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Environment settings. No ``.env`` file is read unless one is passed as ``_env_file``."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, case_sensitive=False, env_ignore_empty=True
    )

    bot_token: SecretStr | None = None  # BOT_TOKEN
    telegram_api_url: str = "https://api.telegram.org"  # TELEGRAM_API_URL
    database_url: str = "sqlite+aiosqlite:///./sopbot.db"  # DATABASE_URL
    redis_url: str | None = None  # REDIS_URL
    sopbot_config: Path = Path("community.yaml")  # SOPBOT_CONFIG
    webhook_url: str | None = None  # WEBHOOK_URL: set → webhook mode instead of long polling
    webhook_secret: SecretStr | None = None  # WEBHOOK_SECRET: Telegram sends it in a header
    webhook_listen: str = "0.0.0.0:8080"  # WEBHOOK_LISTEN: host:port the webhook server binds
    #: DELIVERY_LEASE: seconds an outbox row claimed by a process stays its own; a process that
    #: died holding rows leaves them to the others after this long (it renews a third of the way)
    delivery_lease: float = Field(default=90.0, ge=3.0, le=3600.0)
    log_level: str = Field(default="INFO", validation_alias="SOPBOT_LOG_LEVEL")
    #: ORDERS_SECRET: set → POST /api/orders is served (HMAC-SHA256 of the body with it)
    orders_secret: SecretStr | None = None
    orders_listen: str = "127.0.0.1:8081"  # ORDERS_LISTEN: host:port of the orders endpoint
    #: METRICS_LISTEN: set → GET /metrics (Prometheus) and GET /healthz are served there
    metrics_listen: str | None = None
    #: PRIVACY_KEY: the key of the erased members' suppression hashes (unset: derived from
    #: BOT_TOKEN, see docs/security.md)
    privacy_key: SecretStr | None = None
    #: DASHBOARD_URL: the operators' dashboard as people open it (https; http only on a
    #: loopback host); with DASHBOARD_LISTEN set, ``sopbot run`` serves it (bot/dashboard)
    dashboard_url: str | None = None
    #: DASHBOARD_LISTEN: host:port the dashboard server binds (a TLS proxy in front of it)
    dashboard_listen: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _log_level_by_name(cls, data: Any) -> Any:
        """Let ``Settings(log_level=...)`` work although the variable is ``SOPBOT_LOG_LEVEL``.

        (``populate_by_name`` would also read a stray ``LOG_LEVEL`` from the environment.)
        """
        if isinstance(data, dict) and "log_level" in data:
            data = {**data, "SOPBOT_LOG_LEVEL": data["log_level"]}
            del data["log_level"]
        return data

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(
                f"SOPBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {value!r})"
            )
        return level

    @field_validator("orders_secret")
    @classmethod
    def _strong_orders_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError(
                "ORDERS_SECRET must be at least 16 characters (e.g. the output of "
                "`openssl rand -hex 32`)"
            )
        return value

    @field_validator("orders_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        return check_listen(value, "ORDERS_LISTEN")

    @field_validator("dashboard_listen")
    @classmethod
    def _dashboard_host_port(cls, value: str | None) -> str | None:
        return None if value is None else check_listen(value, "DASHBOARD_LISTEN")

    @field_validator("dashboard_url")
    @classmethod
    def _https_dashboard(cls, value: str | None) -> str | None:
        return None if value is None else check_dashboard_url(value)

    @property
    def dashboard_on(self) -> bool:
        """Both DASHBOARD_URL and DASHBOARD_LISTEN set: ``sopbot run`` serves the dashboard."""
        return self.dashboard_url is not None and self.dashboard_listen is not None

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("telegram_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def require_bot_token(self) -> str:
        """The token's value, for handing to the Bot; :class:`ConfigError` when it is unset."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError("BOT_TOKEN is not set; the bot needs it to run", key="BOT_TOKEN")
        return self.bot_token.get_secret_value()
