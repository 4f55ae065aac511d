"""The indented JSON writer: the same characters as json.dumps(indent=2), for any value."""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import pytest

from mesh_migrate.jsontext import dumps_indented
from mesh_migrate.render.document import analysis_document

VALUES = [
    {},
    [],
    "plain",
    "line\nbreak, quote \" and non-ASCII: é ✈ 😀",
    0,
    -12,
    True,
    None,
    1.5,
    math.inf,
    math.nan,
    {"a": 1, "b": [], "c": {}, "d": [1, "x", None, False], "e": {"f": {"g": [[], [1.25]]}}},
    [{"file": "a.py", "line": 3}, {"file": None, "line": None}, ["x", ("y", "z")]],
    {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
    OrderedDict([("z", 1), ("a", [OrderedDict(b=2)])]),
    {"records": [{"kind": "connection", "name": "dwh", "dag": None, "access": "read", "deep": {"x": [1, {"y": "z"}]}}] * 3},
    [{"a": 1}, {"b": "},\n    {"}, {"c": None, "d": True, "e": "}, {"}],  # flat records, braces and separators in strings
    [[{"a": 1, "b": [{"c": "x"}, {"c": "y"}]}], ({"t": 1},)],
    [{"a": 1}, {}],  # an empty record: not a list of flat records
    [{"a": 1}, {"b": 2.5}],  # a float: as the standard library writes it
    [{"a": 1}, "text"],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_writes_what_the_standard_library_writes(value) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_refuses_what_the_standard_library_refuses() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": [object()]})


def test_the_analysis_document_of_the_fixture_is_written_as_the_standard_library_writes_it(skyflow) -> None:
    document = analysis_document(skyflow)
    assert dumps_indented(document) == json.dumps(document, indent=2)


def test_a_long_list_of_records_is_written_whole() -> None:
    records = [{"kind": "connection", "name": f"conn_{n}", "dag": None, "file": "dags/a.py", "line": n} for n in range(20_000)]
    document = {"resources": records, "flat": [f"item {n}" for n in range(20_000)]}
    assert dumps_indented(document) == json.dumps(document, indent=2)
