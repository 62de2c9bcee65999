"""Dated briefing content from files: ``<content_dir>/2026-11-21.md`` or ``.yaml``.

Markdown: each non-empty line is an item (a leading ``-``, ``*`` or ``1.`` is dropped; lines
starting with ``#`` are headings, skipped). YAML: a list of strings, or ``{items: [...]}``.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import yaml

from bot.config import CommunityConfig

log = logging.getLogger(__name__)

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
MAX_ITEMS = 30
MAX_ITEM = 1000


def content_dir(config: CommunityConfig, root: Path) -> Path | None:
    """The briefing content folder (``sop.content_dir``, under the config's folder)."""
    folder = config.sop.content_dir
    return None if folder is None else root / folder


def items_for(folder: Path | None, day: date) -> list[str]:
    """The day's items from the content folder; [] when there is no file (or it is broken:
    logged, and the briefing is then skipped and reported like any empty day)."""
    if folder is None:
        return []
    for suffix in (".md", ".yaml", ".yml"):
        path = folder / f"{day.isoformat()}{suffix}"
        if path.is_file():
            try:
                return _read(path)[:MAX_ITEMS]
            except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as error:
                log.error("briefing content %s unreadable: %s", path, error)
                return []
    return []


def _read(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".md":
        lines = (_BULLET.sub("", line).strip() for line in text.splitlines())
        return [line[:MAX_ITEM] for line in lines if line and not line.startswith("#")]
    data = yaml.safe_load(text)
    if isinstance(data, dict):
        data = data.get("items")
    if not isinstance(data, list):
        raise ValueError("expected a list of items (or items: [...])")
    return [str(item).strip()[:MAX_ITEM] for item in data if str(item).strip()]
