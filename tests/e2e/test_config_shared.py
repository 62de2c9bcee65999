"""A reload reaches every process (contract, "Several instances"): a reload (``/sop reload``,
SIGHUP: ``SopBot.reload_config``) in one bot stores the validated file in the database; a
second bot on the same database, which never read the new file, runs it within 5 s. Both
databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import SopBot
from bot.config import parse_config
from bot.config_sync import sha256
from bot.db.repositories.config_versions import ConfigVersionRepository
from bot.errors import ConfigError
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML
from tests.e2e.helpers import webhook_settings

NEW_YAML = CONFIG_YAML.replace("within: 5m", "within: 9m")


async def _runs_within(app: SopBot, wanted: timedelta, seconds: float) -> float:
    """Seconds until ``app`` runs a first-response clock of ``wanted`` (fails after
    ``seconds``)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < seconds:
        first_response = app.config.current.first_response
        if first_response is not None and first_response.within == wanted:
            return loop.time() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"the reload did not reach the second process within {seconds} s")


async def test_a_reload_reaches_a_second_process_within_five_seconds(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    here, there = tmp_path / "here.yaml", tmp_path / "there.yaml"
    here.write_text(CONFIG_YAML)
    there.write_text(CONFIG_YAML)  # the other machine's file stays old
    apps = []
    for path in (here, there):  # webhook mode: two processes cannot both poll
        settings, _url = webhook_settings(sandbox.url, database_url)
        settings = settings.model_copy(update={"sopbot_config": path})
        apps.append(SopBot(settings, parse_config(CONFIG_YAML), clock=clock))
    one, two = apps
    await one.start()
    await two.start()
    try:
        here.write_text(CONFIG_YAML.replace("within: 5m", "within: [5m]"))
        with pytest.raises(ConfigError):  # what /sop reload and SIGHUP call
            await one.reload_config()
        async with one.db.sessions() as session:  # a broken file is not handed on
            assert await ConfigVersionRepository(session).newest() is None
        here.write_text(NEW_YAML)
        await one.reload_config()
        assert one.config.current.first_response is not None
        assert one.config.current.first_response.within == timedelta(minutes=9)
        await _runs_within(two, timedelta(minutes=9), 5.0)
        async with two.db.sessions() as session:
            newest = await ConfigVersionRepository(session).newest()
        assert newest is not None and newest[1] == sha256(NEW_YAML)
    finally:
        await asyncio.gather(one.stop(), two.stop())


async def test_a_process_started_after_a_reload_keeps_its_own_file(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    """What was reloaded before a process started is older than the file it was started with."""
    path = tmp_path / "community.yaml"
    path.write_text(NEW_YAML)
    settings, _url = webhook_settings(sandbox.url, database_url)
    settings = settings.model_copy(update={"sopbot_config": path})
    first = SopBot(settings, parse_config(NEW_YAML), clock=clock)
    await first.start()
    try:
        await first.reload_config()
    finally:
        await first.stop()
    later = SopBot(settings, parse_config(CONFIG_YAML), clock=clock)
    await later.start()
    try:
        await asyncio.sleep(2.5)  # more than one look at the stored versions
        assert later.config.current.first_response is not None
        assert later.config.current.first_response.within == timedelta(minutes=5)
    finally:
        await later.stop()
