"""Which ``DATABASE_URL`` sopbot can drive, and a database failure told in one line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.redact import mask_url_password

__all__ = ["DRIVERS", "check_database_url", "describe_failure", "masked"]

#: the async drivers sopbot is built and tested with
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def masked(url: str) -> str:
    """The URL as it may be shown: ``postgresql+asyncpg://user:***@host/db``."""
    return mask_url_password(url)


def check_database_url(url: str) -> str:
    """``url`` when sopbot can drive it; :class:`ValueError` naming ``DATABASE_URL`` otherwise
    (the password masked)."""
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        raise ValueError(
            f"DATABASE_URL {masked(url)!r} is not a database URL (like "
            f"sqlite+aiosqlite:///./sopbot.db or "
            f"postgresql+asyncpg://user:password@host/db)"
        ) from None
    if driver not in DRIVERS:
        raise ValueError(
            f"DATABASE_URL {masked(url)}: driver {driver!r} is not supported "
            f"(use {' or '.join(DRIVERS)})"
        )
    return url


def describe_failure(url: str, error: BaseException) -> str:
    """Why the database at ``url`` could not be opened, in one line."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = next(
        (line for line in str(original).splitlines() if line.strip()), type(original).__name__
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if (
        parsed is not None
        and parsed.drivername.startswith("sqlite")
        and parsed.database
        and parsed.database != ":memory:"
    ):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            return f"cannot open the SQLite file: no folder {folder}"
    if isinstance(original, ConnectionRefusedError):  # asyncpg says "Connect call failed"
        return f"cannot connect: connection refused ({text})"
    if isinstance(original, OSError):
        return f"cannot connect: {text}"
    return f"cannot open the database: {text}"
