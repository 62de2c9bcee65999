"""The retention loop: members gone or silent longer than ``privacy.retention`` are
pseudonymised (their identity blanked and their id replaced as by an erasure), erased members
still keyed by their id re-keyed, a batch at a time, once a day; and the
daily SQLite backup (``backup.daily``), the oldest beyond ``backup.keep`` deleted."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.backup import BackupError, backup, rotate
from bot.db.session import sqlite_file
from bot.jobs import JobContext
from bot.services.privacy.delivery import FarewellDeliveryHook

log = logging.getLogger(__name__)

#: the pass runs at start, then once a day (sooner while a batch was full)
RETENTION_POLL = timedelta(days=1)
#: members pseudonymised per transaction: re-keying one touches every table (about 60 ms on
#: 5,000 members, bench/bench_pseudonymise.py), so a batch holds SQLite's write lock ~2 s
RETENTION_BATCH = 25


async def run_retention(jobs: JobContext) -> datetime | None:
    now = jobs.clock.now()
    async with jobs.services() as services:
        privacy = services.config.privacy
        await services.privacy.prune_logs(
            now, audit=privacy.audit_retention, moderation=privacy.moderation_log_retention
        )
        rekeyed = await services.privacy.rekey_erased(RETENTION_BATCH)
        done = 0
        if privacy.retention is not None:
            done = await services.privacy.pseudonymise_stale(
                now, privacy.retention, RETENTION_BATCH
            )
    if RETENTION_BATCH in (done, rekeyed):
        return now + timedelta(seconds=1)  # more are due: the next batch soon
    return None


#: the backup loop looks this often (a backup a day: the first at start)
BACKUP_POLL = timedelta(days=1)


async def run_backups(jobs: JobContext) -> datetime | None:
    """Today's SQLite backup, once per process start and then daily; older ones rotated out."""
    settings = jobs.config.loaded.config.backup
    source = sqlite_file(jobs.db.url)
    if not settings.daily or source is None:
        return None
    now = jobs.clock.now()
    stem = Path(source).stem
    folder = Path(source).parent / (settings.folder or "")
    target = folder / f"{stem}-backup-{now.strftime('%Y%m%d-%H%M%S')}.db"
    try:
        await asyncio.to_thread(backup, jobs.db.url, target)
    except BackupError as error:
        log.error("daily backup failed: %s", error)
        return None
    gone = await asyncio.to_thread(rotate, folder, stem, settings.keep)
    log.info("daily backup %s written (%d old ones removed)", target.name, len(gone))
    return None


def farewell_hook(_jobs: JobContext) -> FarewellDeliveryHook:
    """An erasure's farewell settled: its row takes the member's pseudonym."""
    return FarewellDeliveryHook()
