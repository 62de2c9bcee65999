"""``sopbot backup`` / ``restore`` (issue 15) on both databases: a backup taken mid-broadcast
restores to a database from which nothing sent before the backup is sent again, a member erased
after the backup stays erased, a database in use is refused, an unwritable path is one line."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import SopBot
from bot.backup import BackupError, backup, restore
from bot.config import CommunityConfig, parse_config
from bot.db.models import Member, OutboxMessage
from bot.services.privacy_keys import privacy_key
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, OPERATOR, TOKEN, settings_for
from tests.e2e.helpers import draft, run_clock, seed, settle

FIRST = 9301
ERASED = FIRST + 3


@pytest.fixture
def config() -> CommunityConfig:
    extra = '\nsop:\n  quiet_hours: "off"\nbroadcasts:\n  backlog: 10\ntemplates: null\n'
    return parse_config(CONFIG_YAML + extra, "tests/e2e/test_backup.py")


async def _sent_ids(app: SopBot) -> set[int]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id).where(
                OutboxMessage.purpose == "broadcast", OutboxMessage.status == "sent"
            )
        )
        return {int(uid) for uid in rows.scalars()}


async def test_a_backup_mid_broadcast_restores_without_resending_and_keeps_erasures(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    config: CommunityConfig,
    database_url: str,
    tmp_path: Path,
) -> None:
    members = await seed(app, sandbox, range(FIRST, FIRST + 40))
    preview = await draft(app, sandbox, "/broadcast all")
    data = next(
        b["callback_data"]
        for row in (preview.reply_markup or {})["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("bc:send:")
    )
    sandbox.press_button(OPERATOR, preview.message_id, preview.chat_id, data)
    for _ in range(200):  # until some copies are settled as sent, the rest still to go
        if len(await _sent_ids(app)) >= 5:
            break
        await asyncio.sleep(0.02)
    path = backup(database_url, tmp_path / "mid.backup")  # online, while it sends
    key = privacy_key(None, TOKEN)
    with pytest.raises(BackupError, match="in use"):  # the bot runs: refused unless --force
        await restore(database_url, path, key, clock.now(), force=False)
    await run_clock(app, sandbox, clock, 30)
    sandbox.user_sends(OPERATOR, f"/member {ERASED} forget")  # after the backup
    await run_clock(app, sandbox, clock, 3)
    before = Counter(m.chat_id for m in sandbox.sent_messages() if m.chat_id in members)
    assert set(before) == set(members) and set(before.values()) == {1}
    await app.stop()

    again = await restore(database_url, path, key, clock.now(), force=True)
    assert again == 1
    restored = SopBot(
        settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1
    )
    await restored.start()
    try:
        sent_in_backup = await _sent_ids(restored) & set(members)  # (not the pseudonym)
        assert sent_in_backup, "the backup was taken mid-broadcast"
        assert ERASED not in await _sent_ids(restored)  # erased again: keyed by a pseudonym
        await run_clock(restored, sandbox, clock, 30)
        await settle(restored, sandbox)
        after = Counter(m.chat_id for m in sandbox.sent_messages() if m.chat_id in members)
        assert all(after[uid] == 1 for uid in sent_in_backup)  # nothing sent before is sent again
        assert after[ERASED] == 1  # nor to the member erased since
        async with restored.sessions() as session:
            assert await session.get(Member, ERASED) is None
            [erased] = (await session.execute(select(Member).where(Member.user_id < 0))).scalars()
        assert erased.erased_at is not None and erased.first_name == ""
    finally:
        await restored.stop()
        await app.start()  # the fixture stops it again


def test_an_unwritable_backup_path_is_one_line(database_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BackupError, match="cannot write the backup"):
        backup(database_url, blocker / "sub" / "b.db")


DAILY = "\nbackup:\n  daily: true\n  keep: 2\n"


async def test_the_daily_sqlite_backup_rotates(
    sandbox: TelegramSandbox, clock: ManualClock, database_url: str
) -> None:
    if "sqlite" not in database_url:
        pytest.skip("the daily backup is SQLite's (PostgreSQL: sopbot backup from cron)")
    config = parse_config(CONFIG_YAML + DAILY, "tests/e2e/test_backup.py")
    app = SopBot(settings_for(sandbox.url, database_url), config, clock=clock, polling_timeout=1)
    await app.start()
    try:
        folder = Path(database_url.removeprefix("sqlite+aiosqlite:///")).parent
        for _ in range(3):
            await settle(app, sandbox)
            clock.advance(days=1, seconds=1)
        for _ in range(100):  # the third day's backup, written off the event loop
            await settle(app, sandbox)
            if len(list(folder.glob("sopbot-backup-*.db"))) == 2 and not list(
                folder.glob("*.partial")
            ):
                break
            await asyncio.sleep(0.05)
        kept = sorted(folder.glob("sopbot-backup-*.db"))
        assert len(kept) == 2
    finally:
        await app.stop()
