"""Dependencies point one way (STYLE.md): sop/ knows nothing of aiogram, SQL or the bot;
handlers/ hold no SQL; only the composition root and its callers import bot.app."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in _imports(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden or name in forbidden
    ]


def test_sop_is_pure() -> None:
    assert _offenders("sop", ("aiogram", "sqlalchemy", "bot", "handlers", "aiohttp")) == []


def test_sop_never_reads_the_wall_clock() -> None:
    for path in (ROOT / "sop").rglob("*.py"):
        text = path.read_text()
        if path.name == "clock.py":
            continue
        assert "datetime.now(" not in text and "time.time(" not in text, path


def test_handlers_hold_no_sql() -> None:
    assert _offenders("handlers", ("sqlalchemy",)) == []
    offenders = [
        f
        for f, names in _imports("handlers").items()
        if any(n.startswith("bot.db.models") for n in names)
    ]
    assert offenders == []


def test_services_know_nothing_of_aiogram() -> None:
    assert _offenders("bot/services", ("aiogram", "handlers")) == []


def test_only_the_entry_points_import_the_composition_root() -> None:
    importers = [
        f
        for package in ("bot", "handlers", "sop")
        for f, names in _imports(package).items()
        if "bot.app" in names
    ]
    assert set(importers) <= {"bot/__main__.py", "bot/demo.py", "bot/demo_crowd.py"}


def test_the_sandbox_stays_independent_of_the_bot() -> None:
    assert _offenders("sandbox", ("bot", "handlers", "sop")) == []
