"""A config reload reaches every process of the bot (contract, "Several instances").

The process that reloads (``/sop reload``, SIGHUP) stores the validated file's text and its
SHA-256 in the database (``config_versions``); every process looks at the newest version every
:data:`POLL` seconds and loads it when it is newer than what it saw and differs from what it
runs. A process that starts reads its own file and follows only the reloads made after.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.config import CommunityConfig, parse_config, read_config_text
from bot.db.repositories.config_versions import ConfigVersionRepository
from bot.db.session import Database
from bot.errors import ConfigError
from bot.rendering import build_renderer
from bot.runtime import ConfigHolder
from sop.clock import Clock

log = logging.getLogger(__name__)

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


class ConfigReloader:
    """``/sop reload`` and SIGHUP (:meth:`reload`) and the reloads of the other processes
    (:meth:`follow`, a loop): a validated config swapped in whole, then ``applied(config)``
    (what getUpdates asks for, the loops that want a wake)."""

    def __init__(
        self,
        path: Path,
        holder: ConfigHolder,
        sync: ConfigSync,
        clock: Clock,
        applied: Callable[[CommunityConfig], None],
    ) -> None:
        self._path, self._holder, self._sync = path, holder, sync
        self._clock, self._applied = clock, applied
        self._publishing: set[asyncio.Task[None]] = set()

    async def reload(self) -> CommunityConfig:
        """Reads the file again; an invalid file raises :class:`ConfigError` and leaves the
        running SOP untouched. The validated text goes to the database for the others."""
        text = await asyncio.to_thread(read_config_text, self._path)
        config = await self._parse(text)
        # in a task of its own: /sop reload runs inside its update's transaction, which holds
        # SQLite's write lock until the handler returns
        task = asyncio.create_task(self._publish(text), name="config publish")
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)
        self._apply(config)
        log.info("config reloaded from %s", self._path)
        return config

    async def follow(self) -> None:
        """Loads what another process reloaded (a look every :data:`POLL` seconds)."""
        while True:
            await asyncio.sleep(POLL)
            try:
                newer = await self._sync.newer()
                if newer is None:
                    continue
                text, digest = newer
                config = await self._parse(text)
            except ConfigError as error:  # e.g. a template this machine lacks
                log.error("a reload by another process is refused here: %s", error)
                continue
            except Exception as error:  # the database away a moment: the next look
                log.warning("could not look for a reloaded config: %s", type(error).__name__)
                continue
            self._apply(config)
            self._sync.running = digest
            log.info("config reloaded by another process (sha256 %s)", digest[:12])

    async def handed_on(self, grace: float) -> None:
        """Waits (up to ``grace`` s) for a reload to reach the database, then cancels what is
        left, so that nothing uses the database once it closes."""
        if self._publishing and grace:
            await asyncio.wait(self._publishing, timeout=grace)
        left = list(self._publishing)
        for task in left:
            task.cancel()
        for task in left:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _publish(self, text: str) -> None:
        try:
            await self._sync.publish(text, self._clock.now())
        except Exception:  # the others keep the config they run; this one runs the new one
            log.exception("the reloaded config could not be stored for the other processes")

    async def _parse(self, text: str) -> CommunityConfig:
        folder = self._path.parent
        return await asyncio.to_thread(
            parse_config, text, str(self._path), catalog=lambda c: build_renderer(c, folder)
        )

    def _apply(self, config: CommunityConfig) -> None:
        self._holder.swap(config, build_renderer(config, self._path.parent))
        self._applied(config)
