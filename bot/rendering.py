"""Templates: Jinja2's sandbox, HTML with autoescape, one folder per locale.

A template is found by its name (the file stem) anywhere under ``<root>/<locale>/``; operator
folders come before the built-in one, so an operator overrides a template by writing one of the
same name. Rendering failures become :class:`TemplateRenderError`, never a half-built message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from bot.config import CommunityConfig
from bot.errors import ConfigError, TemplateRenderError
from bot.telegram_html import TelegramHtmlError, strip_bidi_controls, visible_length

log = logging.getLogger(__name__)

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SUFFIX = ".html.j2"
#: Telegram's limit for a text message
MAX_LENGTH = 4096


class Renderer:
    def __init__(
        self,
        roots: Sequence[Path] = (BUILTIN_TEMPLATES,),
        *,
        default_locale: str = "zh",
        max_length: int = MAX_LENGTH,
    ) -> None:
        self._roots = [Path(r) for r in roots]
        self._max_length = max_length
        self._index: dict[str, dict[str, str]] = {}
        for root in reversed(self._roots):  # earlier roots win
            for locale_dir in (
                sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
            ):
                names = self._index.setdefault(locale_dir.name, {})
                for file in locale_dir.rglob(f"*{SUFFIX}"):
                    names[file.name[: -len(SUFFIX)]] = file.relative_to(root).as_posix()
        self.default_locale = default_locale
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader([str(r) for r in self._roots]),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=_without_bidi_controls,
        )

    @property
    def locales(self) -> frozenset[str]:
        return frozenset(self._index)

    def names(self, locale: str | None = None) -> frozenset[str]:
        return frozenset(self._index.get(locale or self.default_locale, {}))

    def has(self, name: str) -> bool:
        return name in self._index.get(self.default_locale, {})

    def locale_for(self, language_code: str | None) -> str:
        """``zh-hans`` → ``zh``; a language without templates → the default locale."""
        if language_code:
            base = language_code.split("-")[0].split("_")[0].lower()
            if base in self._index:
                return base
        return self.default_locale

    def render(self, name: str, locale: str, context: Mapping[str, Any]) -> str:
        path = self._index.get(locale, {}).get(name) or self._index.get(
            self.default_locale, {}
        ).get(name)
        if path is None:
            raise TemplateRenderError(name, "no such template")
        template: Template | None = None
        try:
            template = self._env.get_template(path)
            text = template.render(**context).strip()
        except Exception as error:  # the sandbox raises plain errors for e.g. 1/0 or bad filters
            file = getattr(error, "filename", None) or (template and template.filename) or path
            raise TemplateRenderError(
                name, f"{type(error).__name__}: {error}", file=file, line=_line_in(error, path)
            ) from error
        if not text:
            raise TemplateRenderError(name, "rendered to an empty message")
        if len(text) > 4 * self._max_length:  # no point parsing what cannot fit
            raise TemplateRenderError(name, f"rendered {len(text)} characters")
        try:
            length = visible_length(text)
        except TelegramHtmlError as error:
            raise TemplateRenderError(name, f"Telegram would refuse the HTML: {error}") from None
        if length > self._max_length:
            raise TemplateRenderError(
                name, f"rendered {length} characters, over {self._max_length}"
            )
        return text


def _line_in(error: Exception, path: str) -> int | None:
    """The line of the template at ``path`` where ``error`` arose: a syntax error knows it;
    for an error while rendering, Jinja2 puts the template's own lines in the traceback."""
    if isinstance(error, TemplateSyntaxError):
        return error.lineno if error.name in (None, path) else None
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if Path(frame.f_code.co_filename).as_posix().endswith(f"/{path}"):
            line = lineno
    return line


def _without_bidi_controls(value: Any) -> Any:
    """Every ``{{ value }}`` a template prints (a member's name above all: names are the text
    strangers choose) loses its bidi controls before it is escaped, so none can reverse or
    reorder the rest of the message; the template's own text is left as written."""
    if isinstance(value, Markup):
        return Markup(strip_bidi_controls(str(value)))
    if isinstance(value, str):
        return strip_bidi_controls(value)
    return value


def build_renderer(config: CommunityConfig, base_dir: Path) -> Renderer:
    """The renderer a config asks for: its own ``templates`` folder (relative to ``base_dir``,
    the config file's folder) before the built-in templates."""
    roots = [BUILTIN_TEMPLATES]
    if config.templates:
        folder = (base_dir / config.templates).resolve()
        if not folder.is_dir():
            raise ConfigError(f"no such folder: {folder}", key="templates")
        roots.insert(0, folder)
    # not a template folder, but also named relative to the config file: a typo here would
    # only show on the first briefing morning, as "no content"
    if config.sop.content_dir is not None:
        content = (base_dir / config.sop.content_dir).resolve()
        if not content.is_dir():
            raise ConfigError(f"no such folder: {content}", key="sop.content_dir")
    return Renderer(roots, default_locale=config.default_locale)
