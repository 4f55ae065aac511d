"""The JSON writers: the characters json.dumps writes (indented by two, or compact), for any value, as ASCII bytes."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import pytest

from mesh_migrate.jsontext import dumps_compact, dumps_indented
from mesh_migrate.render.document import analysis_document


class Name(str):
    pass


VALUES = [
    {},
    [],
    "plain",
    "line\nbreak, quote \" and non-ASCII: é ✈ 😀",
    "controls \x00 \x1f, delete \x7f, separators \u2028 \u2029, slash / and backslash \\",
    {"é": ["ü", {"✈": "😀 at the end"}]},
    "a lone surrogate \udc80",
    0,
    -12,
    2**70,
    True,
    None,
    1.5,
    {"ratio": 0.125, "days": 30.0, "big": 1e22, "negative": -0.0},
    {"a": 1, "b": [], "c": {}, "d": [1, "x", None, False], "e": {"f": {"g": [[], [1.25]]}}},
    [{"file": "a.py", "line": 3}, {"file": None, "line": None}, ["x", ("y", "z")]],
    {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
    OrderedDict([("z", 1), ("a", [OrderedDict(b=2)])]),
    {Name("subclass key"): Name("subclass value")},
    {"records": [{"kind": "connection", "name": "dwh", "dag": None, "access": "read", "deep": {"x": [1, {"y": "z"}]}}] * 3},
    [{"a": 1}, {"b": "},\n    {"}, {"c": None, "d": True, "e": "}, {"}],
    [[{"a": 1, "b": [{"c": "x"}, {"c": "y"}]}], ({"t": 1},)],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_writes_what_the_standard_library_writes(value) -> None:
    assert dumps_indented(value).decode() == json.dumps(value, indent=2)
    assert dumps_compact(value).decode() == json.dumps(value, separators=(",", ":"))


@dataclass
class Record:
    name: str


@pytest.mark.parametrize("value", [object(), Record("x"), date(2026, 1, 1)], ids=["object", "dataclass", "date"])
def test_refuses_what_the_standard_library_refuses(value) -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": [value]})
    with pytest.raises(TypeError):
        dumps_compact({"a": [value]})


def test_numbers_json_cannot_hold_are_null_and_short_exponents_unpadded() -> None:
    """The two differences from the standard library, both in floats."""
    assert json.loads(dumps_indented([math.nan, math.inf, -math.inf])) == [None, None, None]
    assert dumps_indented({"small": 1e-07}) == b'{\n  "small": 1e-7\n}'
    assert json.loads(dumps_indented({"small": 1e-07})) == {"small": 1e-07}


def test_the_analysis_document_of_the_fixture_is_written_as_the_standard_library_writes_it(skyflow) -> None:
    document = analysis_document(skyflow)
    assert dumps_indented(document).decode() == json.dumps(document, indent=2)


def test_a_long_list_of_records_is_written_whole() -> None:
    records = [{"kind": "connection", "name": f"conn_{n}", "dag": None, "file": "dags/a.py", "line": n} for n in range(20_000)]
    document = {"resources": records, "flat": [f"item {n}" for n in range(20_000)]}
    assert dumps_indented(document).decode() == json.dumps(document, indent=2)
