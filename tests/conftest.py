from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from mesh_migrate.analysis import analyze

from .runtime_databases import ALL as RUNTIME_DATABASES, IDS as RUNTIME_IDS, RuntimeDatabase, runtime_database as runtime_database_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SKYFLOW = FIXTURES / "skyflow"


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
