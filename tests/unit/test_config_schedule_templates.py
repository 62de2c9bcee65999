"""check-config renders each schedule's template with what its kind gets at fire time, so a
template that cannot render for its kind is refused before the morning it would fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import load_config
from bot.errors import ConfigError
from bot.rendering import build_renderer

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "community.example.yaml"
SCHEDULES = "schedules:                     # daily community SOPs\n"


def _with_schedule(
    tmp_path: Path, schedule: str, *, templates: dict[str, str] | None = None
) -> Path:
    """The example config with ``schedule`` (YAML lines of one list item) added first, and an
    operator templates folder holding ``templates`` (``zh/<name>.html.j2``) when given."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert SCHEDULES in text
    text = text.replace(SCHEDULES, SCHEDULES + schedule)
    if templates:
        for name, body in templates.items():
            path = tmp_path / "mine" / "zh" / f"{name}.html.j2"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        text += "templates: mine\n"
    path = tmp_path / "community.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check-config", str(path)])
    return code, capsys.readouterr().err


def test_a_message_schedule_with_the_briefing_template_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The case of issue 11: it used to pass, then fail at 09:00 with 'items' is undefined."""
    path = _with_schedule(
        tmp_path,
        '  - id: news\n    cron: "0 9 * * *"\n    kind: message\n    template: morning_briefing\n',
    )
    code, err = _check(path, capsys)
    line = path.read_text(encoding="utf-8").splitlines().index("    template: morning_briefing")
    assert code == 2
    assert f"community.yaml:{line + 1}: schedules[0].template: " in err
    assert "cannot render for a message schedule" in err and "'items' is undefined" in err
    # where in the template, and what a message schedule does get
    assert "zh/sop/morning_briefing.html.j2:2)" in err
    assert "it gets community, day, late" in err


def test_the_example_schedules_render(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(EXAMPLE, capsys)
    assert (code, err) == (0, "")


def test_a_message_by_dm_gets_no_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = '  - id: tip\n    cron: "0 7 * * *"\n    template: tip\n'
    templates = {"tip": "{{ day }}: a tip from {{ community }}"}
    as_post = _with_schedule(tmp_path, schedule, templates=templates)
    assert _check(as_post, capsys) == (0, "")  # a community post has a community
    by_dm = _with_schedule(tmp_path, schedule + "    target: all\n", templates=templates)
    code, err = _check(by_dm, capsys)
    assert code == 2 and "schedules[0].template: " in err
    assert "cannot render for a message schedule" in err and "'community' is undefined" in err
    assert "mine/zh/tip.html.j2:1)" in err and "it gets day, late" in err


def test_a_qa_template_must_also_render_before_a_topic_is_set(tmp_path: Path) -> None:
    path = _with_schedule(
        tmp_path,
        '  - id: ama\n    cron: "0 19 * * *"\n    kind: qa\n    template: ama\n',
        templates={"ama": "Tonight {{ starts[-5:] }}:\n<b>{{ topic.upper() }}</b>"},
    )
    # run and /sop reload load the file the same way: they refuse it too
    with pytest.raises(ConfigError) as refused:
        load_config(path, catalog=lambda c: build_renderer(c, path.parent))
    assert refused.value.key == "schedules[0].template"
    assert "cannot render for a qa schedule" in refused.value.message
    assert "ama.html.j2:2)" in refused.value.message  # the topic line, not the first
