"""``sopbot doctor`` against the sandbox: one line per check, what to fix on each failing one,
exit 1 when one fails (a warning does not), on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.__main__ import main
from bot.config import CommunityConfig, parse_config
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.doctor import Check, Verdict, diagnose, report
from sandbox import TelegramSandbox
from tests.conftest import COMMUNITY, CONFIG_YAML, TEAM_CHAT, TOKEN, settings_for, unused_port

ORDERLY = (
    CONFIG_YAML.replace(
        "    title: Demo community\n",
        "    title: Demo community\n    rules: rules\n    captcha:\n      within: 2m\n",
    )
    + "moderation:\n  banned_words: [加V]\n"
)


def _by(checks: list[Check], what: str) -> Check:
    return next(c for c in checks if c.what.startswith(what))


async def _migrated(database_url: str) -> str:
    database = Database(database_url)
    try:
        await upgrade(database.engine)
    finally:
        await database.dispose()
    return database_url


async def test_a_ready_bot_passes_every_check(sandbox: TelegramSandbox, database_url: str) -> None:
    config = parse_config(ORDERLY, "tests/e2e/test_doctor.py")
    checks = await diagnose(settings_for(sandbox.url, await _migrated(database_url)), config)
    assert [c.verdict for c in checks] == [Verdict.OK] * len(checks), checks
    assert [c.what.split(" ")[0] for c in checks] == [
        "token",
        "privacy",
        "community",
        "team",
        "webhook",
        "database",
        "redis",
    ]
    community = _by(checks, f"community {COMMUNITY}")
    for right in ("can_delete_messages", "can_restrict_members", "can_invite_users"):
        assert right in community.detail
    assert "can_pin_messages" in community.detail  # the rules are pinned by /rules post
    lines: list[str] = []
    assert report(checks, lines.append) == 0
    assert lines[-1] == f"{len(checks)} checks: 0 failed, 0 warnings"


async def test_missing_rights_and_a_basic_group_fail_with_what_to_do(
    sandbox: TelegramSandbox, database_url: str
) -> None:
    basic = -4004001
    sandbox.add_chat(basic, "group", "Old group")
    yaml = ORDERLY.replace(
        "communities:\n",
        f"communities:\n  - chat_id: {basic}\n    title: Old group\n",
    )
    config = parse_config(yaml, "tests/e2e/test_doctor.py")
    sandbox.set_bot_rights(COMMUNITY, can_delete_messages=True, can_pin_messages=True)
    checks = await diagnose(settings_for(sandbox.url, await _migrated(database_url)), config)
    rights = _by(checks, f"community {COMMUNITY}")
    assert rights.verdict is Verdict.FAIL
    assert "can_restrict_members (moderation mutes and bans" in rights.detail
    assert "can_invite_users" in rights.detail and "Administrators" in rights.detail
    assert "can_delete_messages" not in rights.detail
    old = _by(checks, f"community {basic}")
    assert old.verdict is Verdict.FAIL
    assert "basic group" in old.detail and "moderation" in old.detail and "-100" in old.detail
    lines: list[str] = []
    assert report(checks, lines.append) == 1
    assert any(line.startswith("FAIL  community") for line in lines)


async def test_a_bot_that_is_no_administrator_is_told_how_privacy_mode_blinds_it(
    sandbox: TelegramSandbox, database_url: str, config: CommunityConfig
) -> None:
    sandbox.set_bot_rights(COMMUNITY)  # demoted to a member
    checks = await diagnose(settings_for(sandbox.url, await _migrated(database_url)), config)
    community = _by(checks, f"community {COMMUNITY}")
    assert community.verdict is Verdict.FAIL
    assert "not an administrator" in community.detail
    assert "privacy mode on it sees only commands" in community.detail


async def test_a_forum_team_chat_without_the_topics_right_fails(
    sandbox: TelegramSandbox, database_url: str, config: CommunityConfig
) -> None:
    forum = -1005002
    sandbox.add_chat(forum, "supergroup", "Team forum", is_forum=True)
    sandbox.set_bot_rights(forum, can_delete_messages=True)
    yaml = CONFIG_YAML.replace(f"  chat: {TEAM_CHAT}\n", f"  chat: {forum}\n")
    checks = await diagnose(
        settings_for(sandbox.url, await _migrated(database_url)),
        parse_config(yaml, "tests/e2e/test_doctor.py"),
    )
    team = _by(checks, "team chat")
    assert team.verdict is Verdict.FAIL and "can_manage_topics" in team.detail


async def test_an_unknown_chat_and_a_stale_webhook_are_named(
    sandbox: TelegramSandbox, database_url: str
) -> None:
    yaml = CONFIG_YAML.replace(f"  chat: {TEAM_CHAT}\n", "  chat: -1009999\n")
    sandbox.world.webhook_url = "https://old.example/hook"
    checks = await diagnose(
        settings_for(sandbox.url, await _migrated(database_url)),
        parse_config(yaml, "tests/e2e/test_doctor.py"),
    )
    team = _by(checks, "team chat")
    assert team.verdict is Verdict.FAIL and "chat not found" in team.detail
    webhook = _by(checks, "webhook")
    assert webhook.verdict is Verdict.WARN and "removes it at start" in webhook.detail


async def test_an_empty_database_is_a_warning_a_closed_one_a_failure(
    sandbox: TelegramSandbox, blank_database_url: str, config: CommunityConfig
) -> None:
    checks = await diagnose(settings_for(sandbox.url, blank_database_url), config)
    database = _by(checks, "database")
    assert database.verdict is Verdict.WARN and "migrates it" in database.detail
    closed = f"postgresql+asyncpg://sop:pw@127.0.0.1:{unused_port()}/sop"
    checks = await diagnose(settings_for(sandbox.url, closed), config)
    database = _by(checks, "database")
    assert database.verdict is Verdict.FAIL and "cannot connect" in database.detail
    assert "pw" not in database.what and "pw" not in database.detail


async def test_a_refused_token_skips_telegram_and_fails(
    sandbox: TelegramSandbox, database_url: str, config: CommunityConfig
) -> None:
    settings = settings_for(sandbox.url, await _migrated(database_url)).model_copy(
        update={"bot_token": SecretStr("999:wrong")}
    )
    checks = await diagnose(settings, config)
    assert checks[0].verdict is Verdict.FAIL and "BOT_TOKEN" in checks[0].detail
    assert [c.what.split(" ")[0] for c in checks] == ["token", "database", "redis"]


async def test_redis_answers_or_is_named(
    sandbox: TelegramSandbox, database_url: str, config: CommunityConfig
) -> None:
    base = settings_for(sandbox.url, await _migrated(database_url))
    up = base.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"})
    assert _by(await diagnose(up, config), "redis").verdict is Verdict.OK
    down = base.model_copy(update={"redis_url": f"redis://:s3cret@127.0.0.1:{unused_port()}/0"})
    redis = _by(await diagnose(down, config), "redis")
    assert redis.verdict is Verdict.FAIL and "PING" in redis.detail
    assert "s3cret" not in redis.what


async def test_the_command_prints_the_lines_and_exits_1_on_a_failure(
    sandbox: TelegramSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML.replace(f"  chat: {TEAM_CHAT}\n", "  chat: -1009999\n"))
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", sandbox.url)
    monkeypatch.setenv("SOPBOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    # the command runs its own event loop: in a thread, beside the sandbox's
    assert await asyncio.to_thread(main, ["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("ok    token: @")
    assert "FAIL  team chat -1009999" in out
    assert out.splitlines()[-1].startswith("7 checks: 1 failed")
    assert TOKEN not in out
