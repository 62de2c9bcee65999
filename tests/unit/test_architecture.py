"""Dependencies point one way (STYLE.md, docs/architecture.md "Layers"): sop/ knows nothing of
aiogram, SQL or the bot; handlers/ hold no SQL and know nothing of the composition; inside each
feature of bot/services/ the services know nothing of aiogram, handlers or their own loops; the
declarations (bot/features/) sit above handlers and services; only the composition root and its
callers import bot.app."""

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


def _importing(package: str, prefixes: tuple[str, ...]) -> list[str]:
    """``file imports name`` for each import of ``package`` that is, or is inside, a prefix."""
    return [
        f"{file} imports {name}"
        for file, names in _imports(package).items()
        for name in sorted(names)
        if any(name == p or name.startswith(p + ".") for p in prefixes)
    ]


#: the composition: the root, the feature declarations, the receiving side, the test helpers
COMPOSITION = (
    "bot.app",
    "bot.feature",
    "bot.features",
    "bot.receiving",
    "bot.webhook",
    "bot.updates",
    "bot.api_session",
    "bot.idle",
)
SERVICES = ROOT / "bot" / "services"
#: the feature packages of bot/services/ (each a room: services, views, jobs, hooks)
ROOMS = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").is_file())


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


def test_handlers_know_nothing_of_the_composition() -> None:
    assert _importing("handlers", COMPOSITION) == []


def test_services_know_nothing_of_the_composition() -> None:
    assert _importing("bot/services", COMPOSITION) == []


def test_there_are_rooms() -> None:
    assert {"welcome", "sop", "members", "broadcasts", "commerce", "console"} <= set(ROOMS)


def test_inside_each_room_services_know_nothing_of_the_loops() -> None:
    """A room's services and views are below its jobs: a job opens transactions and calls
    services, never the other way round (bot.jobs is the loops' side too)."""
    offenders = [
        line
        for room in ROOMS
        for line in _importing(f"bot/services/{room}", ("bot.jobs", "bot.ticker"))
        + _importing(f"bot/services/{room}", tuple(f"bot.services.{r}.jobs" for r in ROOMS))
        if not line.startswith(f"bot/services/{room}/jobs.py ")
    ]
    assert offenders == []


def test_the_shared_services_know_no_room() -> None:
    """dto, messenger, files, team: every room builds on them, so they import none (the
    ``Services`` assembler in ``__init__.py`` aside)."""
    offenders = [
        line
        for line in _importing("bot/services", tuple(f"bot.services.{r}" for r in ROOMS))
        if line.split()[0].count("/") == 2 and not line.startswith("bot/services/__init__.py")
    ]
    assert offenders == []


def test_the_database_layer_knows_no_service() -> None:
    assert _importing("bot/db", ("bot.services", "handlers", "aiogram", *COMPOSITION)) == []


def test_only_the_declarations_and_the_root_reach_handlers_from_bot() -> None:
    importers = {
        file
        for file, names in _imports("bot").items()
        if any(n == "handlers" or n.startswith("handlers.") for n in names)
    }
    assert {f for f in importers if not f.startswith("bot/features/")} <= {"bot/app.py"}


def test_only_the_root_reads_the_feature_list() -> None:
    importers = {
        file
        for package in ("bot", "handlers", "sop")
        for file, names in _imports(package).items()
        if "bot.features" in names
    }
    assert importers <= {"bot/app.py", "bot/features/__init__.py"}


def test_each_room_is_declared() -> None:
    """Each feature package of bot/services/ has its declaration, and each declaration is in
    the list the root iterates."""
    from bot.features import FEATURES

    declared = {p.stem for p in (ROOT / "bot" / "features").glob("*.py")} - {"__init__"}
    assert set(ROOMS) <= declared, (
        f"rooms without a bot/features/<room>.py: {set(ROOMS) - declared}"
    )
    assert {f.name for f in FEATURES} == declared


def test_every_router_has_a_place() -> None:
    """Every handler module's router is a feature's (router or fallback) or the frame's."""
    from bot.features import FEATURES

    placed = {make.__module__ for f in FEATURES for make in (*f.routers, *f.fallbacks)} | {
        "handlers.errors",
        "handlers.team",
        "handlers.buttons",
    }
    with_router = {
        f"handlers.{p.stem}"
        for p in (ROOT / "handlers").glob("*.py")
        if p.stem != "__init__" and "Router(name=" in p.read_text(encoding="utf-8")
    }
    assert with_router <= placed, f"routers no feature includes: {with_router - placed}"


def test_only_the_entry_points_import_the_composition_root() -> None:
    importers = [
        f
        for package in ("bot", "handlers", "sop")
        for f, names in _imports(package).items()
        if "bot.app" in names
    ]
    assert set(importers) <= {"bot/__main__.py", "bot/demo.py", "bot/demo_crowd.py", "bot/idle.py"}


def test_the_sandbox_stays_independent_of_the_bot() -> None:
    assert _offenders("sandbox", ("bot", "handlers", "sop")) == []
