"""A redis-server of a test's own, on a spare port: for tests that stop, restart or flush it
(the shared one at 127.0.0.1:6379 is only for tests that read and write keys of their own)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

from redis import Redis

#: the server other tests share (never stopped or flushed by a test)
SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"


def unique_prefix() -> str:
    """Keys of one test on the shared server (no test sees another's)."""
    return f"sopbot-test:{uuid.uuid4().hex[:10]}:"


class RedisServer:
    def __init__(self, port: int, password: str | None = None) -> None:
        self.port = port
        self.password = password
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed (apt-get install redis-server)"
        args = [binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        args += ["--bind", "127.0.0.1"]
        if self.password:
            args += ["--requirepass", self.password]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=0.2)
        try:
            for _ in range(100):
                try:
                    client.ping()
                    return
                except Exception:
                    time.sleep(0.05)
            raise AssertionError(f"redis-server on port {self.port} did not start")
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def flush(self) -> None:
        client = Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()
