"""The reference pages in ``docs/`` against the code they describe.

Each test reads a page, pulls out what it claims by the page's stated convention, and compares
it with what the code has: a key, a template variable, a command's usage line or a function
that is in the code and not in the page (or the other way round) fails here.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import types
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from jinja2 import meta
from pydantic import BaseModel

from bot.config.community import CommunityConfig
from bot.config.settings import Settings
from bot.rendering import BUILTIN_TEMPLATES, SUFFIX, Renderer
from bot.services.console.kpi import KpiReport

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TICKED = re.compile(r"`([^`]+)`")
#: a variable or a dotted path into one: ``coupon``, ``coupon.code``, ``stints[].link``
VARIABLE = re.compile(r"^[A-Za-z_]\w*(\[\])?(\.[A-Za-z_]\w*(\[\])?)*$")


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` inside a cell is not a separator)."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def table(text: str, header: list[str]) -> list[list[str]]:
    """The rows of every table of ``text`` whose header row is ``header``."""
    rows: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            inside = False
            continue
        row = cells(line)
        if row == header:
            inside = True
        elif inside and not set("".join(row)) <= set("-: "):
            rows.append(row)
    return rows


# -- configuration.md: every key of community.yaml, every environment variable ------------------


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` → ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def config_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every key of the model as a dotted path, through nested sections (``welcome.within``),
    lists (``hooks[].id``) and mappings (``coupons.<name>.title``)."""
    for name, field in model.model_fields.items():
        path = prefix + name
        yield path
        yield from _inner_keys(field.annotation, path)


def _inner_keys(annotation: Any, path: str) -> Iterator[str]:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from config_keys(annotation, path + ".")
    elif get_origin(annotation) in (list, set, frozenset, tuple):
        yield from _inner_keys(get_args(annotation)[0], path + "[]")
    elif get_origin(annotation) is dict:
        yield from _inner_keys(get_args(annotation)[1], path + ".<name>")


def documented_keys() -> set[str]:
    """The first cell of each row of the key tables: `` `a.b.key` ``."""
    rows = table(page("configuration.md"), ["key", "type", "default", "meaning"])
    return {match for row in rows for match in TICKED.findall(row[0])}


def test_walker_sees_nested_lists_and_mappings() -> None:
    keys = set(config_keys(CommunityConfig))
    assert {
        "welcome.group_batch",
        "hooks[].once_per_member",
        "coupons.<name>.valid_until",
        "tiers.high_value.spend_over",
        "winback.caps.other",
        "segments.<name>.tier",
        "first_response.faq[].q",
        "reports.weekly.day",
    } <= keys


def test_every_config_key_is_in_the_reference() -> None:
    missing = sorted(set(config_keys(CommunityConfig)) - documented_keys())
    assert not missing, f"docs/configuration.md lacks these keys: {missing}"


def test_the_reference_names_no_key_the_config_lacks() -> None:
    stale = sorted(documented_keys() - set(config_keys(CommunityConfig)))
    assert not stale, f"docs/configuration.md documents keys the models do not have: {stale}"


def env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else name.upper())
    return names


def test_every_environment_variable_is_in_the_reference() -> None:
    rows = table(page("configuration.md"), ["variable", "default", "meaning"])
    documented = {match for row in rows for match in TICKED.findall(row[0])}
    missing = sorted(env_names() - documented)
    assert not missing, f"docs/configuration.md lacks these environment variables: {missing}"
    assert documented - env_names() <= {"SOPBOT_TEST_PG_URL"}, "unknown variables documented"


# -- templates.md: each built-in template's variables ------------------------------------------


@cache  # read once per run: 96 parametrised tests ask the same question
def used_variables() -> dict[str, set[str]]:
    """For each built-in template name, the variables its sources (every locale) use."""
    env = Renderer()._env  # the project's own environment: same syntax, same sandbox
    used: dict[str, set[str]] = {}
    for locale_dir in sorted(p for p in BUILTIN_TEMPLATES.iterdir() if p.is_dir()):
        for file in locale_dir.rglob(f"*{SUFFIX}"):
            source = file.read_text(encoding="utf-8")
            names = meta.find_undeclared_variables(env.parse(source))
            used.setdefault(file.name[: -len(SUFFIX)], set()).update(names)
    return used


@cache  # read once per run: 96 parametrised tests ask the same question
def documented_templates() -> dict[str, tuple[set[str], set[str]]]:
    """Template name → (variables, also available), top-level names only."""
    rows = table(page("templates.md"), ["template", "sent", "variables", "also available"])

    def top(cell: str) -> set[str]:
        return {
            re.split(r"[.\[]", token)[0] for token in TICKED.findall(cell) if VARIABLE.match(token)
        }

    found: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        assert len(row) == 4, f"a row of docs/templates.md has {len(row)} cells: {row}"
        for name in TICKED.findall(row[0]):
            assert name not in found, f"{name} is documented twice"
            found[name] = (top(row[2]), top(row[3]))
    return found


@cache  # read once per run: 96 parametrised tests ask the same question
def passed_names() -> set[str]:
    """Every name the code can pass to a template: string keys of dict literals and keyword
    arguments in ``bot/`` and ``handlers/`` (a loose net; the docs name what goes where)."""
    names: set[str] = set()
    for folder in ("bot", "handlers"):
        for file in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Dict):
                    names |= {
                        k.value
                        for k in node.keys
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    }
                elif isinstance(node, ast.Call):
                    names |= {k.arg for k in node.keywords if k.arg}
    return names


def test_every_built_in_template_is_documented() -> None:
    missing = sorted(set(used_variables()) - set(documented_templates()))
    assert not missing, f"docs/templates.md lacks these templates: {missing}"
    unknown = sorted(set(documented_templates()) - set(used_variables()))
    assert not unknown, f"docs/templates.md documents templates that do not exist: {unknown}"


@pytest.mark.parametrize("name", sorted(used_variables()))
def test_documented_variables_are_the_ones_the_templates_use(name: str) -> None:
    documented, also = documented_templates()[name]
    used = used_variables()[name]
    assert used <= documented, f"{name} uses {sorted(used - documented)}, not documented"
    assert documented <= used, (
        f"{name}: {sorted(documented - used)} documented as variables "
        "but no built-in source uses them (move them to also available)"
    )
    assert not also & used, f"{name}: {sorted(also & used)} are variables, not 'also available'"
    assert also <= passed_names(), f"{name}: the code never passes {sorted(also - passed_names())}"


def _resolve(cls: Any, path: list[str]) -> bool:
    """Whether ``path`` (``["communities[]", "figures[]", "key"]``) names fields or properties of
    the dataclass ``cls``, through lists."""
    for part in path:
        name, many = part.removesuffix("[]"), part.endswith("[]")
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if name in hints:
            kind = hints[name]
        elif isinstance(getattr(cls, name, None), property):
            kind = typing.get_type_hints(getattr(cls, name).fget).get("return")
        else:
            return False
        kind = _strip(kind)
        if many:
            if get_origin(kind) is not list:
                return False
            kind = _strip(get_args(kind)[0])
        cls = kind
    return True


def test_the_kpi_paths_are_the_report_the_code_passes() -> None:
    """The ``kpi`` variable is a KpiReport: each documented path must exist in it (an override
    written from a stale list fails to render)."""
    paths = [
        token
        for token in TICKED.findall(page("templates.md"))
        if token.startswith("kpi.") and VARIABLE.match(token)
    ]
    assert len(paths) > 20
    wrong = [p for p in paths if not _resolve(KpiReport, p.split(".")[1:])]
    assert not wrong, f"docs/templates.md: not in KpiReport: {wrong}"


# -- commands.md: the usage lines the code answers with ------------------------------------------


def usage_lines() -> dict[str, str]:
    """Every ``USAGE``-like constant of the command handlers and services."""
    found: dict[str, str] = {}
    for file in [*(ROOT / "handlers").glob("*.py"), *(ROOT / "bot" / "services").rglob("*.py")]:
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.endswith("USAGE"):
                        value = ast.literal_eval(node.value)
                        text = value if isinstance(value, str) else "".join(value)
                        found[f"{file.stem}.{target.id}"] = text
    return found


def test_commands_page_has_every_usage_line() -> None:
    text = page("commands.md")
    lines = usage_lines()
    assert len(lines) >= 10
    missing = {where: line for where, line in lines.items() if f"`{line}`" not in text}
    assert not missing, f"docs/commands.md lacks these usage lines: {missing}"
    assert "`/audit [N≤100]`" in text  # made with an f-string in bot/services/records/audit.py


def test_commands_page_has_every_team_command() -> None:
    from bot.feature import team_commands
    from bot.features import FEATURES

    TEAM_COMMANDS = team_commands(FEATURES)
    headings = {
        name
        for line in page("commands.md").splitlines()
        if line.startswith("#")
        for name in re.findall(r"`/(\w+)", line)
    }
    missing = sorted(set(TEAM_COMMANDS) - headings)
    assert not missing, f"docs/commands.md has no heading for /{missing}"


# -- architecture.md: the map must name what is there ----------------------------------------------

RULE = re.compile(r"`((?:bot|handlers|sop|sandbox)/[\w/]+\.py):([\w.]+)`")


def defines(file: Path, qualname: str) -> bool:
    """Whether ``file`` defines ``qualname`` (``Class.method``, ``function`` or ``CONSTANT``)."""
    scope: list[ast.stmt] = ast.parse(file.read_text(encoding="utf-8")).body
    for part in qualname.split("."):
        for node in scope:
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.name == part
            ):
                scope = node.body if isinstance(node, ast.ClassDef) else []
                break
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == part for t in targets):
                    scope = []
                    break
        else:
            return False
    return True


def test_every_file_and_function_the_architecture_names_exists() -> None:
    named = RULE.findall(page("architecture.md"))
    assert len(named) >= 12
    wrong = [
        f"{path}:{name}"
        for path, name in named
        if not (ROOT / path).is_file() or not defines(ROOT / path, name)
    ]
    assert not wrong, f"docs/architecture.md names what the code lacks: {wrong}"


def test_the_rule_table_covers_the_rules_newcomers_look_for() -> None:
    rows = table(page("architecture.md"), ["rule", "where"])
    rules = " ".join(row[0].lower() for row in rows)
    for rule in (
        "win-back eligibility",
        "broadcast pacing",
        "403",
        "missed-run grace",
        "faq threshold",
        "first-response sla",
        "welcome batching",
        "coupon code",
        "quiet hours",
        "value tiers",
        "referral reward",
        "dedupe",
    ):
        assert rule in rules, f"no row for {rule!r} in the table of docs/architecture.md"
    assert all(RULE.search(row[1]) for row in rows), "a rule without a file:function"


def test_the_architecture_names_every_router_service_and_loop() -> None:
    """Routers and loops by name; the services by their path in ``bot/services/``
    (``welcome/service.py``, ``messenger.py``), every module of every room."""
    from bot.features import FEATURES

    text = page("architecture.md")
    routers = {
        m
        for f in (ROOT / "handlers").glob("*.py")
        for m in re.findall(r'Router\(name="(\w+)"\)', f.read_text(encoding="utf-8"))
    }
    services_dir = ROOT / "bot" / "services"
    services = {
        f.relative_to(services_dir).as_posix()
        for f in services_dir.rglob("*.py")
        if f.name != "__init__.py"
    }
    loops = {job.name for feature in FEATURES for job in feature.jobs}
    features = {feature.name for feature in FEATURES}
    assert routers and services and loops
    for kind, names in (
        ("router", routers),
        ("service", services),
        ("loop", loops),
        ("feature", features),
    ):
        missing = sorted(
            n for n in names if not re.search(rf"(?<![\w/-]){re.escape(n)}(?![\w-])", text)
        )
        assert not missing, f"docs/architecture.md does not name the {kind}s {missing}"


# -- links: every relative link of README.md and docs/ resolves, anchors included --------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(file: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found, fenced = set(), False
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize(
    "source", ["README.md", *(f"docs/{p.name}" for p in sorted(DOCS.glob("*.md")))]
)
def test_relative_links_resolve(source: str) -> None:
    file = ROOT / source
    broken = []
    for target in LINK.findall(file.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (file.parent / path).resolve() if path else file
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert not broken, f"{source}: broken links {broken}"
