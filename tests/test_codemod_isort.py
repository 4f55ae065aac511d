"""On a repository whose imports isort accepts, every file the codemod rewrites stays accepted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.runner import apply_changes, run_codemod
from mesh_migrate.extract.runner import ExtractOptions

from .conftest import SKYFLOW

RUFF = Path(sys.executable).parent / "ruff"
# The fixture's import roots: mesh_http (written into plugins/) is first-party there.
ISORT = ["check", "--select", "I", "--isolated", "--config", 'src = ["dags", "plugins"]']


def isort_findings(root: Path, paths: list[str]) -> list[dict]:
    done = subprocess.run([str(RUFF), *ISORT, "--output-format", "json", *paths], cwd=root, capture_output=True, text=True, check=False)
    return [f for f in json.loads(done.stdout) if f.get("code") == "I001"]


def test_every_rewritten_file_of_an_isort_clean_monolith_stays_isort_clean(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(SKYFLOW, root)
    # The bundled monolith is not isort-clean by design (real repositories rarely are):
    # sort it first, so every finding after the rewrite is the rewrite's own.
    subprocess.run([str(RUFF), *ISORT, "--fix", "--quiet", "dags", "plugins"], cwd=root, capture_output=True, check=False)
    assert isort_findings(root, ["dags", "plugins"]) == []

    before = analyze(root, options=ExtractOptions(jobs=1, use_cache=False))
    result = run_codemod(before, *before.ownership.teams)
    apply_changes(root, result.changes)
    rewritten = [c.path for c in result.changes if c.path.endswith(".py") and c.before]
    assert len(rewritten) > 40
    assert isort_findings(root, rewritten) == []
