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
    fast = _compose_in_c(text)
    loader = _StrictLoader(text if fast is None else "")
    try:
        node = loader.get_single_node() if fast is None else fast
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError([ConfigProblem(display, line, f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(display, 0, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem(display, 0, "invalid YAML: nested too deeply")]) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    problems = [ConfigProblem(display, line, f"YAML aliases (*{anchor}) are not supported") for line, anchor in loader.aliases]
    try:
        value = _Converter(display, problems).convert(node)
    except RecursionError:
        raise ConfigError([ConfigProblem(display, 0, "invalid YAML: nested too deeply")]) from None
    if problems:
        raise ConfigError(problems)
    return value


def _compose_in_c(text: str) -> yaml.Node | None:
    """The node tree by libyaml, when it is installed and the text is valid YAML without
    aliases (its composer would share their nodes); None: compose in Python, which reports
    problems and aliases. Composing a rule pack in Python takes most of a warm run's start."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return None
    try:
        node = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return None
    return None if node is not None and _has_alias(node) else node


def _has_alias(root: yaml.Node) -> bool:
    """Whether a node is reached twice: libyaml's composer makes an alias its anchor's node."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
    return False


class _Alias(yaml.ScalarNode):
    """Where an alias was: a null, already reported."""


class _StrictLoader(yaml.SafeLoader):
    """Composes without expanding aliases: each one becomes a null, remembered by its line.

    PyYAML's composer shares the anchored node, so a few lines of aliases to aliases (the
    "billion laughs") would expand into billions of values.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.aliases: list[tuple[int, str]] = []

    def compose_node(self, parent: Any, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            line = event.start_mark.line + 1
            if (line, event.anchor) not in self.aliases:
                self.aliases.append((line, event.anchor))
            return _Alias("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


_COLLECTION_TAGS: dict[type[yaml.Node], str] = {yaml.SequenceNode: "tag:yaml.org,2002:seq", yaml.MappingNode: "tag:yaml.org,2002:map"}


class _Converter:
    """Plain values from a composed node tree, each mapping and list with its lines. One
    constructor turns every scalar of a file into its value (a loader made per scalar
    took most of reading the rule pack)."""

    def __init__(self, display: str, problems: list[ConfigProblem]):
        self.display, self.problems = display, problems
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node) -> Any:
        display, problems = self.display, self.problems
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.scalars.construct_object(node)
            except (yaml.YAMLError, ValueError, KeyError, TypeError, OverflowError) as exc:
                reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else f"{exc}"
                problems.append(ConfigProblem(display, line, f"invalid value {node.value!r} ({node.tag}): {reason}"))
                return None
        if node.tag != _COLLECTION_TAGS[type(node)]:
            problems.append(ConfigProblem(display, line, f"YAML tag {node.tag!r} is not supported"))
            return None
        if isinstance(node, yaml.SequenceNode):
            elements = [self.convert(child) for child in node.value]
            return LocatedList(elements, [c.start_mark.line + 1 for c in node.value], line)
        items: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, _Alias):
                continue
            key = self.convert(key_node)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(ConfigProblem(display, key_line, "mapping keys must be plain values"))
                continue
            if key in items:
                problems.append(
                    ConfigProblem(display, key_line, f"duplicate key {key!r} (first at line {lines[key]})")
                )
                continue
            items[key] = self.convert(value_node)
            lines[key] = key_line
        return Located(items, lines, line)
