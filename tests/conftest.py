from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mesh_migrate.analysis import analyze

from .runtime_databases import ALL as RUNTIME_DATABASES, IDS as RUNTIME_IDS, RuntimeDatabase, runtime_database as runtime_database_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SKYFLOW = FIXTURES / "skyflow"


def json_run_in_a_fresh_process(root: Path) -> tuple[str, list[str]]:
    """`analyze ROOT --format json` in a new interpreter: what it printed, and every module
    it had imported by the end (what a run loads is a property of a process, not a test)."""
    probe = (
        "import json, sys\n"
        "from mesh_migrate.cli import main\n"
        "try:\n"
        f"    main(['analyze', {str(root)!r}, '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="session", autouse=True)
def cache_key_home(tmp_path_factory):
    """The fact cache's key in a folder of the test session, never in the user's home
    (runs started as subprocesses inherit it)."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture
def repo(tmp_path):
    """Build a small repository from {path: source} and analyze it."""

    def build(files: dict[str, str]):
        write_repo(tmp_path, files)
        return analyze(tmp_path).facts

    return build


@pytest.fixture(scope="session")
def skyflow():
    return analyze(SKYFLOW)


@pytest.fixture(scope="session")
def skyflow_site(skyflow, tmp_path_factory):
    """The review site of fixtures/skyflow, written once per run (the codemod previews take seconds)."""
    from mesh_migrate.render.site import write_site

    site = tmp_path_factory.mktemp("skyflow-site") / "site"
    write_site(skyflow, site)
    return site


@pytest.fixture(scope="module", params=RUNTIME_DATABASES, ids=RUNTIME_IDS)
def runtime_database(request) -> RuntimeDatabase:
    """Each metadata database a real Airflow made: sqlite and PostgreSQL, Airflow 2 and 3 (tests/runtime_databases.py)."""
    return runtime_database_of(*request.param)


@pytest.fixture(scope="session")
def cache_args(tmp_path_factory) -> list[str]:
    """One fact cache for the CLI runs of a test session, outside the analyzed folders: the
    runtime tests analyze the fixture many times, against each database."""
    return ["--cache-dir", str(tmp_path_factory.mktemp("fact-cache"))]
