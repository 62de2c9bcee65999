"""Engine and session factory (app-scoped); one AsyncSession per update or job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db.url import describe_failure, masked
from bot.errors import DatabaseUnavailableError, SopbotError

log = logging.getLogger(__name__)

#: PostgreSQL connections kept open (SQLAlchemy's default of 5 is below the bot's loops and
#: delivery ticking at once; connections beyond the pool, up to 10 more, are closed after use)
PG_POOL_SIZE = 20

#: seconds between two looks at the SQLite file (one stat() each)
FILE_CHECK_EVERY = 10.0


class DatabaseFileError(SopbotError):
    """The SQLite file the bot opened was deleted or replaced while it ran: every write from
    now on would go to a file nobody will open again (or to someone else's), so the bot stops."""

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        super().__init__(
            f"the database file {path} was {what} while the bot ran; stopping so "
            "nothing more is written to a file that is gone (restore it, or start "
            "again on purpose with a new one)"
        )


def sqlite_file(database_url: str) -> str | None:
    """The absolute path of a SQLite database file, ``None`` for anything else (PostgreSQL,
    ``:memory:``, a ``file:`` URI)."""
    url = make_url(database_url)
    if (
        url.get_backend_name() != "sqlite"
        or not url.database
        or url.database == ":memory:"
        or url.database.startswith("file:")
    ):
        return None
    return os.path.abspath(url.database)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout (30 s unless the URL says
    ``?timeout=``) and foreign keys."""
    if database_url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        if "timeout" not in make_url(database_url).query:  # connect_args would override it
            connect_args.setdefault("timeout", 30)
        engine = create_async_engine(database_url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if ":memory:" not in database_url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # every loop, the delivery and the updates of several chats hold a connection at once: a
    # pool smaller than that opens (and closes again) a connection for each one beyond it
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    return create_async_engine(database_url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """The app's engine and the one way to open a transaction.

    SQLite lets one writer in at a time and answers a second one with "database is locked"
    (or a 30 s wait) when two transactions that read first both try to write; in one process we
    queue transactions on an ``asyncio.Lock`` instead, so none of them ever waits on the file.
    PostgreSQL transactions run concurrently.
    """

    def __init__(self, database_url: str, **kwargs: Any) -> None:
        self.url = database_url
        try:
            self.engine = create_engine(database_url, **kwargs)
        except Exception as error:  # not a URL, no such driver (Settings refuse both first)
            raise DatabaseUnavailableError(
                masked(database_url), describe_failure(database_url, error)
            ) from None
        self.sessions = create_sessionmaker(self.engine)
        self.dialect = self.engine.dialect.name
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        #: the SQLite file and its (device, inode) when first opened: a fresh database is made
        #: by the first connection, and that file is the one watched from then on
        self.file = sqlite_file(database_url)
        self.file_check_every = FILE_CHECK_EVERY
        self._file_identity: tuple[int, int] | None = None
        if self.file is not None:
            event.listen(self.engine.sync_engine, "connect", self._pin_file)

    def _pin_file(self, _connection: Any, _record: Any) -> None:
        if self._file_identity is None and self.file is not None:
            self._file_identity = _identity(self.file)

    def check_file(self) -> None:
        """Raises :class:`DatabaseFileError` when the SQLite file opened first is no longer at
        its path (deleted, or another file moved there). One ``stat()``; nothing for others."""
        if self.file is None or self._file_identity is None:
            return
        now = _identity(self.file)
        if now is None:
            raise DatabaseFileError(self.file, "deleted")
        if now != self._file_identity:
            raise DatabaseFileError(self.file, "replaced by another file")

    async def watch_file(self, stop: asyncio.Event) -> None:
        """Checks the file every :attr:`file_check_every` seconds (real time: the file is on a
        real disk) until ``stop`` is set; raises :class:`DatabaseFileError` when it changed."""
        while not stop.is_set():
            self.check_file()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.file_check_every)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One session in one transaction: committed on success, rolled back on error."""
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.sessions() as session, session.begin():
            yield session

    async def check(self) -> None:
        """Opens one connection; :class:`DatabaseUnavailableError` (the cause in one line, the
        password masked) when the database cannot be reached or opened."""
        url = self.engine.url
        if (
            url.get_backend_name() == "sqlite"
            and url.database
            and url.database != ":memory:"
            and not Path(url.database).parent.is_dir()
        ):
            # said before connecting: aiosqlite's worker thread outlives a failed connect and
            # posts to the event loop after it closed
            error = FileNotFoundError(url.database)
            raise DatabaseUnavailableError(
                masked(self.url), describe_failure(self.url, error)
            ) from error
        try:
            async with self.engine.connect():
                pass
        except Exception as error:
            raise DatabaseUnavailableError(
                masked(self.url), describe_failure(self.url, error)
            ) from error

    async def dispose(self) -> None:
        await self.engine.dispose()
