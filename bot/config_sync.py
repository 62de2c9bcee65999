"""A config reload reaches every process of the bot (contract, "Several instances").

The process that reloads (``/sop reload``, SIGHUP) stores the validated file's text and its
SHA-256 in the database (``config_versions``); every process looks at the newest version every
:data:`POLL` seconds and loads it when it is newer than what it saw and differs from what it
runs. A process that starts reads its own file and follows only the reloads made after.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.db.repositories.config_versions import ConfigVersionRepository
from bot.db.session import Database

#: seconds between two looks at the newest stored version (a reload reaches all within 5 s)
POLL = 2.0


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ConfigSync:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._seen = 0
        #: the hash of the text this process runs (``None``: the file it started with)
        self.running: str | None = None

    async def start(self) -> None:
        """What was stored before this process started is not loaded (its file is newer)."""
        async with self._db.sessions() as session:
            newest = await ConfigVersionRepository(session).newest()
        self._seen = newest[0] if newest else 0

    async def publish(self, text: str, now: datetime) -> None:
        """The text this process just loaded and validated, for the others."""
        digest = sha256(text)
        async with self._db.transaction() as session:
            self._seen = await ConfigVersionRepository(session).store(digest, text, now)
        self.running = digest

    async def newer(self) -> tuple[str, str] | None:
        """The text and hash of a version stored by another process since the last look, when
        it differs from what runs here."""
        async with self._db.sessions() as session:
            repo = ConfigVersionRepository(session)
            newest = await repo.newest()
            if newest is None or newest[0] <= self._seen:
                return None
            self._seen = newest[0]
            if newest[1] == self.running:
                return None
            text = await repo.text(newest[0])
        return None if text is None else (text, newest[1])
