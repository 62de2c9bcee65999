"""The sandbox in a process of its own, as Telegram is another machine.

In one process the fake server's work (parsing each request, recording it, answering) runs on
the bot's own event loop: every call the bot makes waits behind the server's handling of the
calls before it, which no real bot pays. A benchmark that measures the bot against a limit
serves the sandbox from a child process instead and asks it what it recorded over a pipe.

    with RemoteSandbox() as remote:
        url = remote.url
        remote.call(add_members, 200_000, 10_000)    # a module-level function: (sandbox, ...)
        sent = await remote.acall(sent_count)        # off the event loop, for polling
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import _common as c

from sandbox import TelegramSandbox

#: a function run in the child on its sandbox (module-level: it is sent by reference)
Job = Callable[..., Any]


class RemoteSandbox:
    """A started sandbox (``c.new_sandbox()``) in a child process, until :meth:`close`."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no loop, no threads
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child,), daemon=True, name="telegram-sandbox"
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self.url: str = self._receive()

    def call(self, job: Job, *args: Any) -> Any:
        """Runs ``job(sandbox, *args)`` in the child and returns what it returned (blocks)."""
        with self._lock:
            self._conn.send((job, args))
            return self._receive()

    async def acall(self, job: Job, *args: Any) -> Any:
        """:meth:`call` from a thread: the caller's event loop goes on meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(None, self.call, job, *args)

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.send(None)
                self._conn.recv()
            except (EOFError, OSError):
                pass
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _receive(self) -> Any:
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"sandbox process: {value}")
        return value


def _child(conn: Connection) -> None:
    c.quiet_logging()
    asyncio.run(_serve(conn))


async def _serve(conn: Connection) -> None:
    sandbox = c.new_sandbox()
    conn.send(("ok", await sandbox.start()))
    loop = asyncio.get_running_loop()
    try:
        while True:
            # the pipe is read in a thread; the job runs here, on the sandbox's own loop
            request = await loop.run_in_executor(None, conn.recv)
            if request is None:
                break
            job, args = request
            try:
                result = job(sandbox, *args)
                if asyncio.iscoroutine(result):
                    result = await result
                conn.send(("ok", result))
            except Exception as error:
                conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        await sandbox.stop()
        conn.send(("ok", None))


# -- jobs the benchmarks share -----------------------------------------------------------------


def pending_updates(sandbox: TelegramSandbox) -> int:
    return sandbox.pending_updates()


def sent_count(sandbox: TelegramSandbox) -> int:
    return len(sandbox.world.sent)


def limits(sandbox: TelegramSandbox) -> tuple[int, float]:
    return sandbox.limits.global_per_second, sandbox.limits.global_window
