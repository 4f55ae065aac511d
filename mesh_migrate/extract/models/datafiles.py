"""Data files read at parse time: YAML, JSON, INI and CSV at static paths in the repository.

Config-driven DAG families (one DAG per entry of a YAML file) resolve when the file is read
here as data. Files are parsed with safe loaders only (never code), bounded in size, and a
file outside the repository or that fails to parse makes the value unknown, with the reason.
"""

from __future__ import annotations

import configparser
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from ..values import MISSING, BoundBuiltin, ModelValue, Unknown
from . import Call, model
from .paths import PathValue, RepoFiles


@dataclass(frozen=True)
class FileValue(ModelValue):
    """A file opened for reading; its text is read only when the code reads it."""

    path: str

    def get_attribute(self, name: str) -> Any:
        return BoundBuiltin(self, name) if name in ("read", "readlines", "__enter__", "close") else MISSING

    def call_method(self, name: str, call: Call) -> Any:
        text = self.text(call)
        if isinstance(text, Unknown) or name == "read":
            return text
        if name == "readlines":
            return text.splitlines(keepends=True)
        return None

    def text(self, call: Call) -> Any:
        return RepoFiles.of(call).read_text(self.path, call)


@model("builtins.open", "io.open")
def open_file(call: Call) -> Any:
    path, mode = call.arg(0, "file"), call.arg(1, "mode", "r")
    if isinstance(path, Unknown):
        return path
    if not isinstance(path, (str, PathValue)) or not isinstance(mode, str):
        return call.unknown("opens a file whose path is not static")
    if any(flag in mode for flag in "wax+"):
        return call.unknown("writes a file at parse time")
    return FileValue(str(path))


def _text_of(call: Call, source: Any) -> Any:
    if isinstance(source, FileValue):
        return source.text(call)
    if isinstance(source, (str, bytes)):
        return source.decode() if isinstance(source, bytes) else source
    return source if isinstance(source, Unknown) else call.unknown("reads data from a source that is not static")


class _TolerantLoader(yaml.SafeLoader):
    """SafeLoader that reads an application's own tags (`!IMAGE x`) as their plain value."""


def _plain_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TolerantLoader.add_multi_constructor("!", _plain_tag)


@model("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "yaml.safe_load_all", "yaml.load_all")
def yaml_load(call: Call) -> Any:
    text = _text_of(call, call.arg(0, "stream"))
    if isinstance(text, Unknown):
        return text
    try:
        if call.qualname.endswith("_all"):
            return list(yaml.load_all(text, Loader=_TolerantLoader))
        return yaml.load(text, Loader=_TolerantLoader)
    except yaml.YAMLError as exc:
        return call.unknown(f"YAML that does not parse: {str(exc).splitlines()[0]}")


@model("json.load", "json.loads")
def json_load(call: Call) -> Any:
    text = _text_of(call, call.arg(0, "fp" if call.qualname == "json.load" else "s"))
    if isinstance(text, Unknown):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        return call.unknown(f"JSON that does not parse: {exc}")


@model("csv.DictReader", "csv.reader")
def csv_rows(call: Call) -> Any:
    text = _text_of(call, call.arg(0, "f"))
    if isinstance(text, Unknown):
        return text
    options = {k: v for k, v in call.kwargs.items() if k in ("delimiter", "quotechar", "fieldnames") and not isinstance(v, Unknown)}
    reader = csv.DictReader(io.StringIO(text), **options) if call.qualname.endswith("DictReader") else csv.reader(io.StringIO(text), **options)
    return [dict(row) if isinstance(row, dict) else list(row) for row in reader]


@dataclass(eq=False)
class ConfigValue(ModelValue):
    """A configparser.ConfigParser, filled by the code's read() calls."""

    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    failed: Unknown | None = None

    def get_attribute(self, name: str) -> Any:
        if name in ("read", "read_file", "read_string", "sections", "get", "getint", "getfloat", "getboolean", "items", "has_section", "has_option", "options", "defaults"):
            return BoundBuiltin(self, name)
        return MISSING

    def section(self, name: Any) -> Any:
        if self.failed:
            return self.failed
        if name not in self.sections:
            return Unknown(str(name), f"section {name!r} is not in the config file")
        return {**self.defaults, **self.sections[name]}

    def call_method(self, name: str, call: Call) -> Any:
        if name in ("read", "read_file", "read_string"):
            source = call.arg(0, "filenames" if name == "read" else "f" if name == "read_file" else "string")
            sources = source if isinstance(source, list) else [source]
            for item in sources:
                text = _text_of(call, FileValue(str(item)) if name == "read" and isinstance(item, (str, PathValue)) else item)
                if isinstance(text, Unknown):
                    self.failed = text
                    continue
                self._parse(text, call)
            return None
        if self.failed:
            return self.failed
        if name == "sections":
            return list(self.sections)
        if name == "defaults":
            return dict(self.defaults)
        if name == "has_section":
            return call.arg(0, "section") in self.sections
        section = self.section(call.arg(0, "section"))
        if isinstance(section, Unknown) or name in ("items", "options"):
            return section if isinstance(section, Unknown) else list(section.items()) if name == "items" else list(section)
        option = call.arg(1, "option")
        if name == "has_option":
            return option in section
        if option not in section:
            fallback = call.kwargs.get("fallback", MISSING)
            return fallback if fallback is not MISSING else call.unknown(f"option {option!r} is not in the config file")
        value = section[option]
        converters: dict[str, Callable[[str], Any]] = {"getint": int, "getfloat": float, "getboolean": _boolean}
        convert = converters.get(name, str)
        try:
            return convert(value)
        except ValueError:
            return call.unknown(f"option {option!r} is not a {name[3:]}")

    def _parse(self, text: str, call: Call) -> None:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            self.failed = call.unknown(f"INI that does not parse: {exc}")
            return
        self.defaults.update(parser.defaults())
        for section in parser.sections():
            self.sections.setdefault(section, {}).update(parser.items(section, raw=True))


def _boolean(value: str) -> bool:
    states = configparser.ConfigParser.BOOLEAN_STATES
    if value.lower() not in states:
        raise ValueError(value)
    return states[value.lower()]


@model("configparser.ConfigParser", "configparser.RawConfigParser", "configparser.SafeConfigParser")
def config_parser(call: Call) -> Any:
    return ConfigValue()


VALID = [
    ("result = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), 'x.yaml')))", {"a": [1, 2]}),
    ("with open(pathlib.Path(__file__).parent / 'x.json') as f:\n    result = json.load(f)", {"b": "c"}),
    ("c = configparser.ConfigParser()\nc.read(os.path.dirname(__file__) + '/x.ini')\nresult = [c.get(s, 'id') for s in c.sections()]", ["one", "two"]),
    ("result = [r['id'] for r in csv.DictReader(open(os.path.dirname(__file__) + '/x.csv'))]", ["p", "q"]),
]
