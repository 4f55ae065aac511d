"""The metadata databases a real Airflow made, for the tests marked `runtime`: four of them.

- sqlite: build/runtime-airflow{2,3}.db (make runtime-db);
- PostgreSQL: databases airflow2 and airflow3 on the throwaway server of
  tests/airflow/postgres.py, which sets MESH_RUNTIME_POSTGRES while it runs the tests
  (make verify-runtime).

Each loader run leaves what it planted in build/runtime-airflow<major>[-postgres].json. A
missing database skips its tests, and fails them when MESH_RUNTIME_DB=required.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("sqlite", "postgresql")
MAJORS = (2, 3)


@dataclass(frozen=True)
class RuntimeDatabase:
    backend: str  # "sqlite" | "postgresql"
    airflow_major: int
    url: str  # what --airflow-db is given
    path: Path | None  # the sqlite file
    report: dict  # what the loader planted and counted (tests/airflow/runtime_db.py)

    @property
    def name(self) -> str:
        return f"{self.backend}-airflow{self.airflow_major}"


def _missing(message: str) -> None:
    if os.environ.get("MESH_RUNTIME_DB") == "required":
        pytest.fail(message)
    pytest.skip(message)


def runtime_database(backend: str, airflow_major: int) -> RuntimeDatabase:
    """The database, or a skip (a failure when required) saying how to make it."""
    build = REPO / "build"
    if backend == "sqlite":
        path = build / f"runtime-airflow{airflow_major}.db"
        report = build / f"runtime-airflow{airflow_major}.json"
        if not path.is_file() or not report.is_file():
            _missing(f"{path} is missing: run make runtime-db")
        return RuntimeDatabase(backend, airflow_major, f"sqlite:///{path}", path, json.loads(report.read_text()))
    server = os.environ.get("MESH_RUNTIME_POSTGRES")
    report = build / f"runtime-airflow{airflow_major}-postgres.json"
    if not server or not report.is_file():
        _missing("no PostgreSQL runtime database: run make verify-runtime (tests/airflow/postgres.py starts one)")
    assert server is not None
    return RuntimeDatabase(backend, airflow_major, f"{server}/airflow{airflow_major}", None, json.loads(report.read_text()))


ALL = [(backend, major) for backend in BACKENDS for major in MAJORS]
IDS = [f"{backend}-airflow{major}" for backend, major in ALL]
