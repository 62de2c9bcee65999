"""Reading YAML so that every value keeps its line, strictly enough for a configuration file.

PyYAML's ``SafeLoader`` is the base, with three changes: a key repeated in one mapping is an
error (PyYAML silently keeps the last), only plain tags are allowed (strings, numbers, booleans,
null, lists, mappings and ``<<`` merges), and dates stay text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.config.keys import DICT_KEY_MARK, Loc, dotted_key
from bot.errors import ConfigError

__all__ = ["YamlDocument", "read_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_REFUSED_TAGS = ("binary", "omap", "pairs", "set", "timestamp", "value")


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` limited to plain data; dates are read as text."""

    def construct_undefined(self, node: Node) -> NoReturn:
        _refuse_tag(self, node)


def _refuse_tag(loader: yaml.SafeLoader, node: Node) -> NoReturn:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    raise ConstructorError(
        None, None, f"the tag {tag} is not allowed here; write a plain value", node.start_mark
    )


for _name in _REFUSED_TAGS:
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_name}", _refuse_tag)
del _name
_StrictLoader.add_constructor(None, _refuse_tag)
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlDocument:
    """A parsed document: the plain data and the node tree it came from."""

    root: Node | None
    data: Any

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the key at ``loc``, or of its nearest existing parent."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if part == DICT_KEY_MARK:
                break
            if isinstance(node, MappingNode):
                pair = _find_key(node, part)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif (
                isinstance(node, SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line


def read_yaml(text: str, path: str) -> YamlDocument:
    """Parse one YAML document; any problem becomes a :class:`ConfigError` with its line."""
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(None, None)
        _check_duplicate_keys(loader, root, (), set(), path)
        return YamlDocument(root, loader.construct_document(root))
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, last_line=max(1, len(text.splitlines()))) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ConfigError(
            f"the file contains a character YAML does not allow ({char!r})", path=path, line=line
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from exc
    except RecursionError as exc:
        raise ConfigError("the YAML is nested too deeply", path=path) from exc
    finally:
        if loader is not None:
            loader.dispose()


def _find_key(node: MappingNode, part: str | int) -> tuple[Node, Node] | None:
    """The last ``(key, value)`` pair whose key reads as ``part`` (explicit keys win merges)."""
    found = None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value.strip() == str(part).strip():
            found = (key, value)
    return found


def _check_duplicate_keys(
    loader: yaml.SafeLoader, node: Node, loc: Loc, seen: set[int], path: str
) -> None:
    """Refuse a key written twice in one mapping, naming it and both lines."""
    if id(node) in seen:  # aliases may share or even cycle through nodes
        return
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicate_keys(loader, item, (*loc, index), seen, path)
    elif isinstance(node, MappingNode):
        first_lines: dict[Any, int] = {}
        for key_node, value in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_lines:
                raise ConfigError(
                    f"this key is written twice (first on line {first_lines[key]}); keep one",
                    path=path,
                    key=dotted_key((*loc, str(key))),
                    line=line,
                )
            first_lines[key] = line
            _check_duplicate_keys(loader, value, (*loc, str(key)), seen, path)


def _syntax_error(exc: yaml.MarkedYAMLError, path: str, last_line: int) -> ConfigError:
    """Retell a PyYAML error; a mark past the last newline counts as the last line."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "not valid YAML"
    if "\\t" in problem or "tab" in problem:
        problem = "a tab is used for indentation; YAML indents with spaces only"
    elif isinstance(exc, ConstructorError) and problem.startswith("the tag"):
        pass
    else:
        problem = f"YAML syntax error: {problem}"
        if exc.context and exc.problem and exc.context_mark is not None:
            problem += f" ({exc.context} on line {exc.context_mark.line + 1})"
    line = None if mark is None else min(mark.line + 1, last_line)
    return ConfigError(problem, path=path, line=line)
