"""JSON text indented by two spaces, the same characters as `json.dumps(value, indent=2)`.

The standard library writes indented JSON in pure Python through nested generators; its C
encoder runs only without indentation. The analysis document of a large monolith holds
hundreds of thousands of values, most in flat records (a place, a resource use). A flat
dict or list is written here by the C encoder, its item separator carrying the newline and
the indentation; only the containers that hold containers are walked in Python. Anything
else (a subclass, a float, an unknown type) is handed to `json.dumps`, so the text never
differs from the standard library's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, Callable

_SCALARS = frozenset({str, int, bool, type(None)})


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, indent=2)`, faster on large documents of plain data."""
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)


def _write(value: Any, depth: int, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_quoted(value))
    elif kind is dict or kind is list or kind is tuple:
        _write_container(value, kind is dict, depth, out)
    elif kind is int:
        out.append(int.__repr__(value))
    elif value is None or kind is bool:
        out.append("null" if value is None else "true" if value else "false")
    else:  # floats (NaN, Infinity), subclasses, errors: as the standard library
        text = json.dumps(value, indent=2)
        out.append(text.replace("\n", "\n" + "  " * depth))


def _write_container(value: Any, is_dict: bool, depth: int, out: list[str]) -> None:
    if not value:
        out.append("{}" if is_dict else "[]")
        return
    inner = "\n" + "  " * (depth + 1)
    if _flat(value.values() if is_dict else value):
        text = _flat_encoder(depth + 1)(value)
        out.append(text[0] + inner + text[1:-1] + inner[:-2] + text[-1])
        return
    if not is_dict and _flat_records(value):
        out.append(_records(value, depth))
        return
    separator = ("{" if is_dict else "[") + inner
    if is_dict:
        for key, item in value.items():
            name = _quoted(key) if type(key) is str else _key(key)
            kind = type(item)
            # A record's strings, numbers and nulls here, as `_write` writes them: a call
            # less for most fields.
            if kind is str:
                out.append(f"{separator}{name}: {_quoted(item)}")
            elif item is None:
                out.append(f"{separator}{name}: null")
            elif kind is int:
                out.append(f"{separator}{name}: {int.__repr__(item)}")
            else:
                out.append(f"{separator}{name}: ")
                _write(item, depth + 1, out)
            separator = "," + inner
    else:
        for item in value:
            out.append(separator)
            _write(item, depth + 1, out)
            separator = "," + inner
    out.append(inner[:-2] + ("}" if is_dict else "]"))


def _flat(items: Any) -> bool:
    for item in items:
        if type(item) not in _SCALARS:
            return False
    return True


def _flat_records(items: Any) -> bool:
    """Whether every item is a non-empty dict of scalars (a list of records: a place, a
    resource use), which `_records` writes in one call of the C encoder."""
    for item in items:
        if type(item) is not dict or not item:
            return False
        for field in item.values():
            if type(field) not in _SCALARS:
                return False
    return True


def _records(items: Any, depth: int) -> str:
    """A list of flat records at DEPTH. The C encoder writes it with the separators of the
    records' fields, so only the records' own brackets need a line break and their
    indentation: a real line break appears only in a separator (strings escape theirs),
    and a field value is a scalar, so "}" + separator + "{" occurs only between records."""
    outer, inner = "\n" + "  " * (depth + 1), "\n" + "  " * (depth + 2)
    text = _flat_encoder(depth + 2)(items)
    text = text[2:-2].replace("}," + inner + "{", outer + "}," + outer + "{" + inner)
    return "[" + outer + "{" + inner + text + outer + "}" + outer[:-2] + "]"


@lru_cache(maxsize=None)
def _flat_encoder(depth: int) -> Callable[[Any], str]:
    """Writes a container of scalars (and string keys) whose items sit at DEPTH, one a line."""
    separator = ",\n" + "  " * depth
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(separators=(separator, ": ")).encode
    encode = c_make_encoder(None, None, _quoted, None, ": ", separator, False, False, True)
    return lambda value: "".join(encode(value, 0))  # chunks: more than one for a long text


def _key(key: Any) -> str:
    """A key that is not a string, as `json.dumps` writes it (numbers, booleans, None)."""
    return json.dumps({key: 0})[1:-4]
