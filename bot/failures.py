"""Whose fault a failure is: the infrastructure's (the update comes again) or the update's own.

An update whose transaction fails because the database is locked beyond its busy timeout,
unreachable or lost its connection, or because the network or the machine failed, may well
succeed a moment later: it must not be confirmed to Telegram (polling asks for it again after
a backoff, the webhook answers 5xx). Any other failure is the update's own and recorded and
skipped: trying it again would fail the same way and hold back the updates behind it.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiogram.exceptions import TelegramNetworkError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: SQLSTATE classes (and one code) that say the database, not the statement, failed:
#: 08 connection exception, 40 transaction rollback (serialization failure, deadlock),
#: 53 insufficient resources (too many connections, disk full), 57 operator intervention
#: (shutdown, cannot connect now, statement timeout), 58 system error, 55P03 lock not available
TRANSIENT_SQLSTATES = ("08", "40", "53", "57", "58", "55P03")

#: OSErrors that name a wrong path: a file or folder to fix, not a moment to wait out
_PATH_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


def is_infrastructure_error(error: BaseException) -> bool:
    """``True`` when ``error`` (or what it was raised from) is the database's, the network's
    or the machine's failure rather than the update's: SQLAlchemy's ``OperationalError`` and
    ``InterfaceError`` (SQLite "database is locked", "disk I/O error"), a ``DBAPIError`` whose
    connection was invalidated, a driver error with a transient SQLSTATE (asyncpg's connection
    errors, an administrator's shutdown, a deadlock), ``OSError`` and ``TimeoutError`` (but not
    a wrong path), aiogram's ``TelegramNetworkError``."""
    for cause in _causes(error):
        if isinstance(cause, (OperationalError, InterfaceError, TelegramNetworkError)):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, OSError) and not isinstance(cause, _PATH_ERRORS):
            return True  # TimeoutError and ConnectionError are OSErrors
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATES):
            return True
    return False


def describe(error: BaseException) -> str:
    """The error's type and, for a database error, the driver's own words (SQLAlchemy's
    message carries the statement and its parameters, which may hold member data)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return f"{type(error).__name__}: {type(error.orig).__name__}: {error.orig}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it was raised from (``raise … from``, a DBAPIError's ``orig``); not
    the exceptions it merely happened during (``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = current.orig if isinstance(current, DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__
