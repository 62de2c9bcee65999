"""The ``sopbot`` command line: check-config, and run refusing a bad config before Telegram.

The commands run in-process (``main(argv)``, output captured); one test starts the real process
for what only a process shows: ``python -m bot`` and its exit status."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.__main__ import main
from sandbox import TelegramSandbox
from tests.conftest import CONFIG_YAML, TOKEN

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "community.example.yaml"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def _process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What ``sopbot run`` changes for the rest of its process, put back after each test."""
    for name in (
        "BOT_TOKEN",
        "TELEGRAM_API_URL",
        "SOPBOT_CONFIG",
        "DATABASE_URL",
        "WEBHOOK_URL",
        "DASHBOARD_URL",
        "DASHBOARD_LISTEN",
    ):
        monkeypatch.delenv(name, raising=False)
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


class _Sopbot:
    """``sopbot *args`` with ``env`` set, as the shell would run it, minus the process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            self._monkeypatch.setenv(name, value)
        self._capsys.readouterr()  # only this command's output
        try:
            code = main(list(args))
        except SystemExit as refused:  # argparse refusing the arguments
            code = refused.code if isinstance(refused.code, int) else 1
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def sopbot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> _Sopbot:
    return _Sopbot(monkeypatch, capsys)


def test_check_config_summarises_a_good_file(sopbot: _Sopbot) -> None:
    result = sopbot("check-config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "Asia/Shanghai" in result.stdout and "-1002001" in result.stdout


@pytest.mark.parametrize(
    "url", ["http://dash.example.com/", "ftp://dash.example.com/", "http://10.0.0.5/", "dash"]
)
def test_check_config_refuses_a_dashboard_url_that_is_not_https(sopbot: _Sopbot, url: str) -> None:
    result = sopbot("check-config", str(EXAMPLE), env={"DASHBOARD_URL": url})
    assert result.returncode == 2
    problem = [line for line in result.stderr.splitlines() if line]
    assert len(problem) == 1 and "DASHBOARD_URL" in problem[0], result.stderr


@pytest.mark.parametrize(
    "url", ["https://dash.example.com/", "http://127.0.0.1:8090/", "http://localhost/dash/"]
)
def test_check_config_takes_https_and_loopback_dashboard_urls(sopbot: _Sopbot, url: str) -> None:
    env = {"DASHBOARD_URL": url, "DASHBOARD_LISTEN": "127.0.0.1:8090"}
    result = sopbot("check-config", str(EXAMPLE), env=env)
    assert result.returncode == 0, result.stderr
    assert f"dashboard: {url}" in result.stdout


def test_check_config_names_the_key_and_line_of_a_bad_file(tmp_path: Path, sopbot: _Sopbot) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("within: 30m", "within: soon"))
    result = sopbot("check-config", str(bad))
    assert result.returncode == 2
    line = (
        CONFIG_YAML.replace("within: 30m", "within: soon").splitlines().index("  within: soon") + 1
    )
    assert f"{bad}:{line}: welcome.within" in result.stderr
    assert "Traceback" not in result.stderr


async def test_run_with_a_bad_config_exits_2_before_touching_telegram(
    tmp_path: Path, sopbot: _Sopbot
) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("chat_id: -1002001", "chat_id: 1002001"))
    sandbox = TelegramSandbox(token=TOKEN)
    await sandbox.start()
    try:
        result = sopbot(
            "run",
            env={
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": sandbox.url,
                "SOPBOT_CONFIG": str(bad),
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            },
        )
        assert result.returncode == 2
        assert "communities[0].chat_id" in result.stderr
        assert sandbox.calls == []
        assert not (tmp_path / "x.db").exists()
    finally:
        await sandbox.stop()


def test_run_without_a_token_says_so(tmp_path: Path, sopbot: _Sopbot) -> None:
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML)
    result = sopbot("run", env={"SOPBOT_CONFIG": str(config)})  # BOT_TOKEN unset
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["nonsense"], []])
def test_unknown_subcommands_get_usage(argv: list[str], sopbot: _Sopbot) -> None:
    result = sopbot(*argv)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_the_process_exits_with_the_commands_status(tmp_path: Path) -> None:
    """``python -m bot`` is the entry point and ``main``'s answer its exit status."""
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("within: 30m", "within: soon"))
    command = [sys.executable, "-m", "bot", "check-config"]
    result = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "welcome.within" in result.stderr and "Traceback" not in result.stderr
    good = subprocess.run([*command, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "Asia/Shanghai" in good.stdout, good.stderr


def test_check_config_finds_a_missing_template(tmp_path: Path, sopbot: _Sopbot) -> None:
    bad = tmp_path / "community.yaml"
    text = CONFIG_YAML.replace("template: welcome", "template: welcom")
    bad.write_text(text)
    result = sopbot("check-config", str(bad))
    line = text.splitlines().index("  template: welcom") + 1
    assert result.returncode == 2
    assert f":{line}: welcome.template: no template named 'welcom'" in result.stderr


def test_check_config_finds_a_locale_without_templates(tmp_path: Path, sopbot: _Sopbot) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML.replace("default_locale: zh", "default_locale: fr"))
    result = sopbot("check-config", str(bad))
    assert (
        result.returncode == 2 and "default_locale: no templates for locale 'fr'" in result.stderr
    )


def test_operator_templates_folder_overrides_and_adds(tmp_path: Path) -> None:
    from bot.config import load_config
    from bot.rendering import build_renderer

    (tmp_path / "mine" / "zh").mkdir(parents=True)
    (tmp_path / "mine" / "zh" / "my_welcome.html.j2").write_text("欢迎 {{ community }}")
    (tmp_path / "community.yaml").write_text(
        CONFIG_YAML.replace("template: welcome", "template: my_welcome") + "templates: mine\n"
    )
    config = load_config(tmp_path / "community.yaml", catalog=lambda c: build_renderer(c, tmp_path))
    renderer = build_renderer(config, tmp_path)
    assert renderer.render("my_welcome", "zh", {"community": "A&B"}) == "欢迎 A&amp;B"
    assert renderer.has("welcome_dm")  # built-ins still there


def test_a_missing_templates_folder_is_a_config_error(tmp_path: Path, sopbot: _Sopbot) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML + "templates: nowhere\n")
    result = sopbot("check-config", str(bad))
    assert result.returncode == 2 and "templates: no such folder" in result.stderr
    assert f":{len(CONFIG_YAML.splitlines()) + 1}:" in result.stderr


def test_a_missing_briefing_content_folder_is_a_config_error(
    tmp_path: Path, sopbot: _Sopbot
) -> None:
    bad = tmp_path / "community.yaml"
    bad.write_text(CONFIG_YAML + "sop:\n  content_dir: briefings\n")
    result = sopbot("check-config", str(bad))
    assert result.returncode == 2 and "sop.content_dir: no such folder" in result.stderr
    assert f":{len(CONFIG_YAML.splitlines()) + 2}:" in result.stderr
    (tmp_path / "briefings").mkdir()
    assert sopbot("check-config", str(bad)).returncode == 0


def test_check_config_finds_a_cron_that_never_fires(tmp_path: Path, sopbot: _Sopbot) -> None:
    bad = tmp_path / "community.yaml"
    text = CONFIG_YAML + 'schedules:\n  - id: never\n    cron: "0 0 31 2 *"\n    template: guide\n'
    bad.write_text(text)
    result = sopbot("check-config", str(bad))
    assert result.returncode == 2
    assert f":{len(text.splitlines()) - 1}: schedules[0].cron:" in result.stderr
    assert "never fires" in result.stderr


def test_simulate_prints_the_calendar_from_the_engine(tmp_path: Path, sopbot: _Sopbot) -> None:
    config = tmp_path / "community.yaml"
    config.write_text(
        CONFIG_YAML + 'schedules:\n  - id: evening_qa\n    cron: "0 12 * * mon-fri"\n'
        '    template: evening_qa\n    starts_at: "20:00"\n'
    )
    result = sopbot("simulate", "--days", "7", "--config", str(config), "--start", "2026-11-21")
    assert result.returncode == 0, result.stderr
    days = [line for line in result.stdout.splitlines() if line.startswith("2026-11-")]
    assert days == [
        "2026-11-23 Mon",
        "2026-11-24 Tue",
        "2026-11-25 Wed",
        "2026-11-26 Thu",
        "2026-11-27 Fri",
    ]  # the weekend is quiet
    assert result.stdout.count("12:00  evening_qa") == 5
    assert "reminders by DM at 20:00" in result.stdout


def test_simulate_refuses_a_bad_config(tmp_path: Path, sopbot: _Sopbot) -> None:
    config = tmp_path / "community.yaml"
    config.write_text("timezone: Mars/Olympus\n")
    result = sopbot("simulate", "--config", str(config))
    assert result.returncode == 2 and "timezone" in result.stderr


def test_cron_macros_and_bad_hook_ids(tmp_path: Path, sopbot: _Sopbot) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        CONFIG_YAML + 'schedules:\n  - id: tip\n    cron: "@daily"\n    template: guide\n'
    )
    assert sopbot("check-config", str(good)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CONFIG_YAML + 'hooks:\n  - id: "get it!"\n    keywords: [x]\n    template: guide\n'
    )
    result = sopbot("check-config", str(bad))
    assert result.returncode == 2 and "hooks[0].id" in result.stderr
