"""Runs answered through the caches after a file is touched, added or removed print what a
run from scratch prints, on the bundled fixture and on a generated monolith; and a run
that recomputes the analysis imports neither the graph library nor the runtime reader."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate.cli import main

from .conftest import SKYFLOW, json_run_in_a_fresh_process

GENERATOR = Path(__file__).resolve().parent.parent / "fixtures" / "generate.py"


def analyze(root: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["analyze", str(root), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def first_dag_file(root: Path) -> Path:
    return sorted(p for p in (root / "dags").rglob("*.py") if "DAG" in p.read_text(encoding="utf-8") or "@dag" in p.read_text(encoding="utf-8"))[0]


def touch_moving_facts(root: Path) -> None:
    path = first_dag_file(root)
    path.write_text("# moved down a line\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def touch_keeping_facts(root: Path) -> None:
    path = first_dag_file(root)
    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")


def add_a_copy(root: Path) -> None:
    """A second file defining the same DAGs: duplicates, found only across files."""
    path = first_dag_file(root)
    path.with_name("copied_" + path.name).write_bytes(path.read_bytes())


def remove_one(root: Path) -> None:
    first_dag_file(root).unlink()


CHANGES = [touch_moving_facts, touch_keeping_facts, add_a_copy, remove_one]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated monolith large enough for the process pool (80 DAG files)."""
    out = tmp_path_factory.mktemp("generated") / "monolith"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out), "--dags", "80", "--seed", "7"], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("source", ["fixture", "generated"])
def test_after_a_change_the_cached_answer_is_the_fresh_one(source: str, change, generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(SKYFLOW if source == "fixture" else generated, root, ignore=shutil.ignore_patterns(".mesh-migrate-cache"))
    before = analyze(root)
    assert analyze(root) == before  # answered from the result cache
    change(root)
    after = analyze(root)
    assert after == analyze(root, "--no-cache")
    assert (after == before) == (change is touch_keeping_facts)
    assert after == analyze(root)  # and again, from the caches just written


def test_a_recomputed_analysis_imports_neither_networkx_nor_the_runtime_reader(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(SKYFLOW, root)
    analyze(root)
    touch_moving_facts(root)
    output, modules = json_run_in_a_fresh_process(root)
    assert '"dags"' in output
    assert sorted(m for m in modules if m.split(".")[0] == "networkx" or m.startswith("mesh_migrate.runtime")) == []
