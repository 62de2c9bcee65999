"""``sopbot backup [PATH]`` and ``sopbot restore PATH`` (issue 15).

- SQLite: the online backup API (``sqlite3.Connection.backup``, a few hundred pages a step), so
  the copy is consistent while the bot runs and no lock is held for long.
- PostgreSQL: ``pg_dump --format=custom`` when it is installed (else one line saying how);
  ``pg_restore --clean`` to restore.

A restore refuses a database in use unless ``--force`` (SQLite: its ``-wal`` file exists, which
SQLite removes when the last connection closes; PostgreSQL: other sessions are connected), and
re-applies every erasure made since the backup: the suppression list of the database being
replaced is read first, and each member of the restored data whose keyed hash is on it is
erased again.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.db.models import Member, Suppression
from bot.db.repositories.privacy import PrivacyRepository
from bot.db.session import Database, sqlite_file
from bot.errors import SopbotError
from bot.services.privacy_keys import digest

#: pages copied per step of the SQLite online backup (4 MB at 4 KB pages)
PAGES_PER_STEP = 1024


class BackupError(SopbotError):
    """A backup or restore that cannot be made; ``str()`` is the one line to print."""


def default_path(database_url: str, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    source = sqlite_file(database_url)
    if source is not None:
        return Path(source).with_name(f"{Path(source).stem}-backup-{stamp}.db")
    return Path(f"sopbot-backup-{stamp}.dump")


def backup(database_url: str, target: Path) -> Path:
    """Writes a consistent copy of the database to ``target``; returns it."""
    source = sqlite_file(database_url)
    if source is not None:
        if not Path(source).is_file():
            raise BackupError(f"no database file at {source}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
                src.backup(dst, pages=PAGES_PER_STEP)
            partial.replace(target)
        except (OSError, sqlite3.Error) as error:
            raise BackupError(f"cannot write the backup to {target}: {error}") from None
        return target
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not installed: install the PostgreSQL client "
            "(apt-get install postgresql-client), or run pg_dump --format=custom yourself"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot write the backup to {target}: {error}") from None
    done = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={target}", _libpq(database_url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:300]}")
    return target


def rotate(folder: Path, stem: str, keep: int) -> list[Path]:
    """Deletes all but the newest ``keep`` backups ``<stem>-backup-*`` in ``folder``."""
    found = sorted(folder.glob(f"{stem}-backup-*"), reverse=True)
    gone = found[keep:]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


async def restore(
    database_url: str, source: Path, key: bytes, now: datetime, *, force: bool
) -> int:
    """Replaces the database with the backup at ``source``; returns how many erasures made
    since the backup were applied again."""
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"{source}: no such backup file")
    suppressed = await _suppressions(database_url)
    target = sqlite_file(database_url)
    if target is not None:
        await asyncio.to_thread(_sqlite_restore, source, target, force)
    else:
        await _pg_restore(database_url, source, force=force)
    return await _erase_again(database_url, suppressed, key, now)


def _sqlite_restore(source: Path, target: str, force: bool) -> None:
    if Path(target + "-wal").exists() and not force:
        raise BackupError(
            f"{target} is in use (its -wal file exists): stop the bot first, or --force"
        )
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst, pages=PAGES_PER_STEP)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"cannot restore {source} to {target}: {error}") from None


async def _suppressions(database_url: str) -> set[str]:
    """The suppression list of the database about to be replaced (empty when it has none)."""
    path = sqlite_file(database_url)
    if path is not None and not await asyncio.to_thread(Path(path).is_file):
        return set()
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return set((await session.execute(select(Suppression.digest))).scalars())
    except Exception:
        return set()
    finally:
        await db.dispose()


async def _erase_again(database_url: str, suppressed: set[str], key: bytes, now: datetime) -> int:
    if not suppressed:
        return 0
    db = Database(database_url)
    erased = 0
    try:
        async with db.transaction() as session:
            repo = PrivacyRepository(session)
            ids = (
                await session.execute(select(Member.user_id).where(Member.erased_at.is_(None)))
            ).scalars()
            for user_id in list(ids):
                hashed = digest(key, int(user_id))
                if hashed in suppressed:
                    await repo.erase(int(user_id), now)
                    await repo.suppress(hashed, now)
                    erased += 1
            for hashed in suppressed:  # the list itself comes back whole
                await repo.suppress(hashed, now)
    finally:
        await db.dispose()
    return erased


async def _pg_restore(database_url: str, source: Path, *, force: bool) -> None:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not installed: install the PostgreSQL client")
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            others = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            ).scalar_one()
    finally:
        await db.dispose()
    if others and not force:
        raise BackupError(
            f"the database is in use ({others} other sessions): stop the bot first, or --force"
        )
    done = await asyncio.to_thread(
        subprocess.run,
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={_libpq(database_url)}",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:300]}")


def _libpq(database_url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (``postgresql://``, no driver)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
