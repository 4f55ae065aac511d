"""The dotted name a file is imported by: the fast path for plain paths gives what PurePath's
parts and relative_to make of every path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mesh_migrate.extract.modules import ModuleFinder, name_by_paths

PATHS = [
    "dags/a.py", "dags/sub/b.py", "dags/pkg/__init__.py", "lib/x.py", "x.py", "__init__.py", "dags/.hidden.py",
    "dags/a.b.py", "dags/noext", "dags/trailing.", "dags/sub/", "dags//a.py", "./dags/a.py", "dags/./a.py",
    "dags/../lib/x.py", "/elsewhere/y.py", "src/dags/c.py", "dags", "src", "a b/c d.py",
]
ROOTS = [["dags"], ["dags", "lib"], [], ["."], ["src/dags", "src"], ["./dags/"], ["../outside"]]


@pytest.mark.parametrize("python_paths", ROOTS, ids=[",".join(r) or "root" for r in ROOTS])
def test_names_are_those_the_path_rule_gives(tmp_path: Path, python_paths: list[str]) -> None:
    finder = ModuleFinder(tmp_path, python_paths)
    for rel_path in PATHS:
        try:
            expected = name_by_paths(tmp_path, finder.import_roots, rel_path)
        except ValueError as error:  # a folder that is an import root itself has no name
            with pytest.raises(ValueError, match=re.escape(str(error))):
                finder.module_name(rel_path)
            continue
        assert finder.module_name(rel_path) == expected, rel_path
