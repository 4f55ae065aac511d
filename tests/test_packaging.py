"""A non-editable install ships the rule pack and works from any directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import SKYFLOW

ROOT = Path(__file__).resolve().parent.parent


def test_built_wheel_carries_the_rule_pack_and_analyzes_from_elsewhere(tmp_path):
    source = tmp_path / "source"  # build from a copy: setuptools writes build/ next to the sources
    for name in ("mesh_migrate", "rules"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("mesh_migrate-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    assert (target / "mesh_migrate" / "rules" / "airflow.yaml").is_file()
    assert (target / "mesh_migrate" / "rules" / "mesh_http.py").is_file()
    packages = {p.parent.relative_to(ROOT) for p in (ROOT / "mesh_migrate").rglob("__init__.py")}
    assert {p for p in packages if not (target / p / "__init__.py").is_file()} == set()  # setup.cfg lists each package
    for asset in ("site.css", "site.js"):  # the review site's own files
        assert (target / "mesh_migrate" / "render" / "site" / "assets" / asset).is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, sys, mesh_migrate;"
        "from mesh_migrate.cli import main;"
        "assert mesh_migrate.__file__.startswith(sys.argv[1]), mesh_migrate.__file__;"
        "sys.argv = ['mesh-migrate', 'analyze', sys.argv[2], '--format', 'json', '--jobs', '1', '--no-cache'];"
        "main()"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", script, str(target), str(SKYFLOW)], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "mesh-migrate/analysis@1"
    assert any(d["kind"] == "skyflow_sensor" for d in doc["dependencies"])  # the repository's own rule file
    assert len(doc["dags"]) > 150
