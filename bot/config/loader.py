"""Loading ``community.yaml``: YAML with lines, validation, and errors an operator can act on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from bot.config.community import CommunityConfig
from bot.config.keys import dotted_key
from bot.config.messages import Problem, problems_from_errors
from bot.config.templates import TemplateCatalog, template_problems
from bot.config.yamlsource import YamlDocument, read_yaml
from bot.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "load_config", "parse_config", "read_config_text"]

_MAX_LISTED = 20
#: a community config is a few KB; past this it is a mistake (or an attack), refused unparsed:
#: PyYAML takes about a second and 16 MB of memory per MB of YAML
MAX_CONFIG_BYTES = 2 * 1024 * 1024


#: builds the template catalog a config will render with (it may name a folder of its own)
CatalogFactory = Callable[[CommunityConfig], TemplateCatalog]


def load_config(path: Path, *, catalog: CatalogFactory | None = None) -> CommunityConfig:
    """Read and validate the configuration file at ``path``; raise :class:`ConfigError`.

    With ``catalog``, every template the config names must exist in it too.
    """
    return parse_config(read_config_text(path), str(path), catalog=catalog)


def read_config_text(path: Path) -> str:
    """The configuration file's text (at most :data:`MAX_CONFIG_BYTES`); :class:`ConfigError`
    when it cannot be read."""
    where = str(path)
    try:
        with Path(path).open("rb") as file:  # never more than the cap (a FIFO, /dev/zero…)
            raw = file.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            cap = (
                f"{MAX_CONFIG_BYTES} bytes"
                if MAX_CONFIG_BYTES < 2**20
                else f"{MAX_CONFIG_BYTES / 2**20:g} MB ({MAX_CONFIG_BYTES} bytes)"
            )
            raise ConfigError(
                f"the file is larger than {cap}, the most a configuration file "
                "may be; it was not read",
                path=where,
            )
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("file not found", path=where) from None
    except IsADirectoryError:
        raise ConfigError("this is a directory, not a file", path=where) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the file is not UTF-8 text (byte {exc.start})", path=where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", path=where) from None
    return text


def parse_config(
    text: str, path: str = "<string>", *, catalog: CatalogFactory | None = None
) -> CommunityConfig:
    """Validate configuration ``text``; ``path`` only names it in errors."""
    document = read_yaml(text, path)
    if document.data is None:
        raise ConfigError(
            "the file is empty; it needs at least timezone, communities and welcome", path=path
        )
    if not isinstance(document.data, dict):
        kind = "a list" if isinstance(document.data, list) else "a single value"
        raise ConfigError(
            f"the file must be a mapping of keys like 'timezone: Asia/Shanghai' (it is {kind})",
            path=path,
            line=document.line_of(()),
        )
    try:
        config = CommunityConfig.model_validate(document.data)
    except ValidationError as exc:
        raise _config_error(exc, document, path, _line_count(text)) from exc
    if catalog is not None:
        try:
            templates = catalog(config)
        except ConfigError as error:  # e.g. the templates folder is missing
            loc: tuple[str | int, ...] = tuple(error.key.split(".")) if error.key else ()
            raise ConfigError(
                error.message, path=path, key=error.key, line=document.line_of(loc)
            ) from None
        problems = template_problems(config, templates)
        if problems:
            (loc, message), rest = problems[0], problems[1:]
            extra = "".join(
                f"\n{path}:{document.line_of(where) or 1}: {dotted_key(where)}: {why}"
                for where, why in rest
            )
            raise ConfigError(
                message + extra, path=path, key=dotted_key(loc), line=document.line_of(loc)
            )
    return config


def _config_error(
    exc: ValidationError, document: YamlDocument, path: str, lines: int
) -> ConfigError:
    """One error for the first problem (by line, present keys first); the rest in its message."""
    problems = problems_from_errors(exc.errors())
    if not problems:  # cannot happen with pydantic, but never hide a failure
        return ConfigError(str(exc), path=path)

    def line(problem: Problem) -> int:
        return min(document.line_of(problem.loc) or 1, lines)

    ordered = sorted(problems, key=lambda problem: (problem.missing, line(problem)))
    first, rest = ordered[0], ordered[1:]
    message = first.message
    for other in rest[:_MAX_LISTED]:
        message += (
            f"\n{path}:{line(other)}: {dotted_key(other.loc) or '(top level)'}: {other.message}"
        )
    if len(rest) > _MAX_LISTED:
        message += f"\n... and {len(rest) - _MAX_LISTED} more problems"
    return ConfigError(message, path=path, key=dotted_key(first.loc) or None, line=line(first))


def _line_count(text: str) -> int:
    return max(1, len(text.splitlines()))
