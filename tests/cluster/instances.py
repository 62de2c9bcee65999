"""``sopbot run`` processes in webhook mode behind one balancer: the same ``WEBHOOK_URL`` (the
balancer's) and ``WEBHOOK_SECRET``, each its own ``WEBHOOK_LISTEN``, as the contract's "Several
instances" says. Each process reaches the sandbox at ``<sandbox>/<name>`` so the sandbox
records whose call each was (``Call.via``); stdout and stderr go to a log file per process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.cluster.balancer import Balancer
from tests.conftest import unused_port

WEBHOOK_SECRET = "several-instances-secret"
WEBHOOK_PATH = "/tg/webhook"


@dataclass
class Instance:
    name: str
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None
    #: how the process ended (``None`` while it runs)
    returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Instances:
    """N bot processes and their balancer; :meth:`start` them, then :meth:`wait_healthy`."""

    count: int
    api_url: str
    database_url: str
    redis_url: str | None
    config: Path
    logs: Path
    token: str
    env: Mapping[str, str] = field(default_factory=dict)
    members: list[Instance] = field(init=False)
    balancer: Balancer = field(init=False)

    def __post_init__(self) -> None:
        self.members = [
            Instance(f"i{n}", unused_port(), self.logs / f"i{n}.log") for n in range(self.count)
        ]
        self.balancer = Balancer([m.url for m in self.members])

    @property
    def webhook_url(self) -> str:
        return self.balancer.url + WEBHOOK_PATH

    def environment(self, member: Instance) -> dict[str, str]:
        env = {
            **os.environ,
            "BOT_TOKEN": self.token,
            "TELEGRAM_API_URL": f"{self.api_url}/{member.name}",
            "SOPBOT_CONFIG": str(self.config),
            "DATABASE_URL": self.database_url,
            "WEBHOOK_URL": self.webhook_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": f"127.0.0.1:{member.port}",
            **self.env,
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        else:
            env.pop("REDIS_URL", None)
        return env

    async def start(self) -> None:
        """The balancer, then every process at once."""
        if not self.balancer.url:
            await self.balancer.start()
        await asyncio.gather(*(self.start_one(m) for m in self.members))

    async def start_one(self, member: Instance) -> None:
        member.log.parent.mkdir(parents=True, exist_ok=True)
        with member.log.open("ab") as log:
            member.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=self.environment(member),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        member.returncode = None

    async def health(self, member: Instance) -> tuple[int, dict[str, object]] | None:
        """``GET /healthz`` on the member's ``WEBHOOK_LISTEN``; ``None`` when nothing answers."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
                http.get(member.url + "/healthz") as response,
            ):
                return response.status, await response.json()
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def wait_healthy(self, timeout: float = 240.0) -> None:  # noqa: ASYNC109
        """Until every running member answers ``/healthz`` with 200 (a dead one fails it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = [m for m in self.members if m.process is not None]
        while waiting:
            for member in list(waiting):
                if not member.running:
                    raise AssertionError(f"{member.name} exited:\n{member.output()[-3000:]}")
                answer = await self.health(member)
                if answer is not None and answer[0] == 200:
                    waiting.remove(member)
            if waiting and loop.time() > deadline:
                raise AssertionError(
                    f"not healthy within {timeout}s: {[m.name for m in waiting]}\n"
                    + "\n".join(m.output()[-2000:] for m in waiting)
                )
            if waiting:
                await asyncio.sleep(0.2)

    def kill(self, member: Instance) -> None:
        """SIGKILL: no goodbye, no cleanup."""
        assert member.process is not None
        member.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM to each still running, then the balancer; the exit codes are kept."""
        for member in self.members:
            if member.running:
                assert member.process is not None
                member.process.send_signal(signal.SIGTERM)
        for member in self.members:
            if member.process is not None:
                try:
                    member.returncode = await asyncio.wait_for(member.process.wait(), 60)
                except TimeoutError:
                    member.process.kill()
                    member.returncode = await member.process.wait()
        await self.balancer.stop()

    def outputs(self) -> str:
        return "\n".join(f"--- {m.name}\n{m.output()}" for m in self.members)
