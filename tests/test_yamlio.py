"""YAML read by libyaml where it can be: the same values and lines as the strict reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from mesh_migrate import yamlio
from mesh_migrate.config import ConfigError

REPO = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(p for pattern in ("rules/*.yaml", "fixtures/**/*.yaml", "tests/**/*.yaml") for p in REPO.glob(pattern))


def located(value):
    """The value with the line of every key and item, to compare both readers."""
    if isinstance(value, yamlio.Located):
        return ("map", value.line, {k: (value.lines[k], located(v)) for k, v in value.items()})
    if isinstance(value, yamlio.LocatedList):
        return ("seq", value.line, [(line, located(v)) for line, v in zip(value.lines, value)])
    return value


def read_both(text: str, monkeypatch) -> tuple:
    outcomes = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(yamlio, "_compose_in_c", lambda text: None)
            try:
                outcomes.append(located(yamlio.parse_yaml(text, "x.yaml")))
            except ConfigError as error:
                outcomes.append(str(error))
    return tuple(outcomes)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_of_the_project_reads_the_same(path: Path, monkeypatch) -> None:
    fast, strict = read_both(path.read_text(encoding="utf-8-sig"), monkeypatch)
    assert fast == strict


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, y]\nc:\n  d: null\n  e: 2024-01-01\n",
        "a: 1\na: 2\n",  # duplicate key
        "base: &b {x: 1}\nother: *b\n",  # an alias: a null, reported
        "a: [1, 2\n",  # invalid
        "--- 1\n--- 2\n",  # two documents
        "a: !!python/object:os.system 1\n",  # a tag that is not allowed
        "",
    ],
)
def test_problems_and_values_are_the_same_either_way(text: str, monkeypatch) -> None:
    fast, strict = read_both(text, monkeypatch)
    assert fast == strict
