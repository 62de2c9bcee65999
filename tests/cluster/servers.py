"""A PostgreSQL cluster (``initdb``) of a test's own on a spare loopback port, in a scratch
directory: a test may stop or restart it without touching the shared server other tests use
(5432). Its Redis counterpart is :class:`tests.redis_server.RedisServer`.

PostgreSQL refuses to run as root: when the tests run as root the cluster is made and run as
the ``postgres`` system user (``runuser``), in a directory given to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import unused_port

PG_BIN = Path(os.environ.get("SOPBOT_TEST_PG_BIN", "/usr/local/bin"))
PG_OWNER = "postgres"


def wait_port(port: int, timeout: float = 30.0, *, up: bool = True) -> None:
    """Until something listens on ``port`` (or, ``up=False``, nothing does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            listening = probe.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} is {'not ' if up else 'still '}listening after {timeout}s")


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_OWNER, "--", *command] if os.geteuid() == 0 else command


class PostgresCluster:
    """``initdb`` + ``pg_ctl`` on a spare port, trust auth, fsync off; ``url(db)`` for asyncpg."""

    def __init__(self, *, log_statements: str = "none") -> None:
        self.port = unused_port()
        #: ``log_statement`` (none, ddl, mod, all): what the server log records
        self.log_statements = log_statements
        self.dir = Path(tempfile.mkdtemp(prefix="sopbot-pg-"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_OWNER)
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            _as_owner([str(PG_BIN / tool), *args]), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            f"-c log_statement={self.log_statements}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    @property
    def log(self) -> Path:
        return self.dir / "log"

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        """The server log from ``offset`` (a :meth:`log_size`) on."""
        with self.log.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: connections are ended (what a restart does to the bot); ``immediate``: a
        crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        result = subprocess.run(
            [
                shutil.which("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres", "-q", "-c", f'CREATE DATABASE "{name}"',
            ],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"CREATE DATABASE failed: {result.stderr.strip()}")
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
