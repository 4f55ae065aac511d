"""Strict YAML reading for configuration: line numbers, no duplicate keys, no aliases.

PyYAML silently keeps the last of two equal keys and expands aliases (the "billion
laughs" bomb), so configuration is read from the composed node tree instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a configuration file, reported together."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Located(dict):
    """A mapping read from YAML that remembers the line of each key."""

    def __init__(self, items: dict, lines: dict[str, int], line: int):
        super().__init__(items)
        self.lines = lines
        self.line = line

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class LocatedList(list):
    def __init__(self, items: list, lines: list[int], line: int):
        super().__init__(items)
        self.lines = lines
        self.line = line


MAX_BYTES = 1_000_000


def read_yaml(path: Path, display: str) -> Any:
    """Parse a YAML file into plain values (Located mappings); raise ConfigError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(display, 0, f"cannot read: {exc.strerror}")]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([ConfigProblem(display, 0, "file is larger than 1 MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(display, 1, f"not UTF-8: {exc.reason}")]) from None
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str) -> Any:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError([ConfigProblem(display, line, f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(display, 0, f"invalid YAML: {exc}")]) from None
    if node is None:
        return None
    problems: list[ConfigProblem] = []
    value = _convert(node, display, problems, seen=set())
    if problems:
        raise ConfigError(problems)
    return value


def _convert(node: yaml.Node, display: str, problems: list[ConfigProblem], seen: set[int]) -> Any:
    line = node.start_mark.line + 1
    if id(node) in seen:
        problems.append(ConfigProblem(display, line, "YAML aliases (*name) are not supported"))
        return None
    if isinstance(node, yaml.ScalarNode):
        return yaml.SafeLoader("").construct_object(node)
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(child, display, problems, seen) for child in node.value]
        return LocatedList(items, [c.start_mark.line + 1 for c in node.value], line)
    items: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = _convert(key_node, display, problems, seen)
        key_line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            problems.append(ConfigProblem(display, key_line, "mapping keys must be plain values"))
            continue
        if key in items:
            problems.append(
                ConfigProblem(display, key_line, f"duplicate key {key!r} (first at line {lines[key]})")
            )
            continue
        items[key] = _convert(value_node, display, problems, seen)
        lines[key] = key_line
    return Located(items, lines, line)
