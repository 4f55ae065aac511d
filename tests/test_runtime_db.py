"""The metadata database reader on the databases a real Airflow 2.10 and 3.1 made (make runtime-db).

Each test runs on both; skipped when build/runtime-airflow{2,3}.db is absent; `make verify-runtime`
sets MESH_RUNTIME_DB=required, which makes a missing database a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mesh_migrate.analysis import assemble, with_runtime
from mesh_migrate.cli import main
from mesh_migrate.runtime.reader import read_runtime
from mesh_migrate.runtime.connect import connect_readonly

sys.path.insert(0, str(Path(__file__).parent / "airflow"))
import runtime_db as planted  # noqa: E402  (the names the builder planted)

REPO = Path(__file__).resolve().parents[1]
# Airflow major -> (release, alembic head) the database's Airflow writes.
RELEASES = {2: ("2.10.3", "5f2621c13b39"), 3: ("3.1.8", "509b94a1042d")}
SKYFLOW = REPO / "fixtures" / "skyflow"

pytestmark = pytest.mark.runtime


def runtime_db(airflow_major: int) -> Path:
    """build/runtime-airflow<major>.db; skips without it, fails when MESH_RUNTIME_DB=required."""
    db = REPO / "build" / f"runtime-airflow{airflow_major}.db"
    if not db.is_file():
        message = f"{db} is missing: run make runtime-db"
        if os.environ.get("MESH_RUNTIME_DB") == "required":
            pytest.fail(message)
        pytest.skip(message)
    return db


@pytest.fixture(scope="module", params=sorted(RELEASES), ids=lambda major: f"airflow{major}")
def airflow_major(request) -> int:
    return request.param


@pytest.fixture(scope="module")
def database(airflow_major) -> Path:
    return runtime_db(airflow_major)


@pytest.fixture(scope="module")
def url(database) -> str:
    return f"sqlite:///{database}"


@pytest.fixture(scope="module")
def analysis(url):
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--airflow-db", url, "--since", "30d", "--no-cache"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_schema_and_history_are_read(url, airflow_major):
    facts = read_runtime(url, timedelta(days=30))
    assert (facts.airflow_version, facts.schema_revision) == RELEASES[airflow_major]
    assert facts.dag_runs > 100 and facts.task_runs > facts.dag_runs
    paused = facts.dag(planted.PAUSED)
    assert paused and paused.is_paused and paused.runs == 0  # its only run is 60 days old
    assert read_runtime(url, timedelta(days=90)).dag(planted.PAUSED).runs == 1


def test_every_static_edge_is_seen_or_not_and_runtime_only_edges_are_added(analysis):
    statuses = {d["runtime"] for d in analysis["dependencies"]}
    assert statuses <= {"seen", "not_seen", None}
    assert all(d["origin"] == "static" for d in analysis["dependencies"])
    seen = [d for d in analysis["dependencies"] if d["runtime"] == "seen"]
    assert any(d["source"] == "loyalty_points_ledger" and d["target"] == "crm_customer_segments" for d in seen)
    assert all(d["runtime"] is None for d in analysis["dependencies"] if d["kind"] == "marker")
    only = analysis["runtime"]["runtime_only"]
    assert only and all(e["origin"] == "runtime" for e in only)
    static = {(d["kind"], d["source"], d["target"]) for d in analysis["dependencies"]}
    assert not any((e["kind"], e["source"], e["target"]) in static for e in only)


def test_variable_and_jinja_targets_are_resolved_from_runtime(analysis):
    resolved = {(r["dag"], r["task_id"]): r for r in analysis["runtime"]["resolved"]}
    by_variable = resolved[("crm_customer_segments", "trigger_crm_sync")]
    assert by_variable["other_dag"] == planted.VARIABLES["crm_sync_dag_id"] and not by_variable["rendered"]
    by_jinja = resolved[planted.RENDERED]
    assert by_jinja["other_dag"] == planted.VARIABLES["upstream_dag"] and by_jinja["rendered"]
    assert by_jinja["expression"] == "{{ var.value.upstream_dag }}"


def test_dead_dags_are_flagged(analysis):
    flags = {d["dag_id"]: d["flags"] for d in analysis["runtime"]["dags"]}
    assert "paused" in flags[planted.PAUSED]
    assert flags[planted.NEVER_RUN] == ["not_run"]
    assert {"only_in_db", "inactive", "not_run"} <= set(flags[planted.RETIRED])


def test_text_summary_and_plans_show_it(url, tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", url, "--out", str(tmp_path / "out"), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "{{ var.value.upstream_dag }} -> crm_account_merges_hourly (rendered by Airflow)" in result.output
    assert f"only in the database (its file is gone)" in result.output and planted.RETIRED in result.output
    plan = (tmp_path / "out" / "plans" / "customer_service.md").read_text()
    assert "## What runs (metadata database)" in plan
    assert f"`{planted.NEVER_RUN}`: not run in the window" in plan


def test_nothing_is_written(database, url, airflow_major, request):
    before = (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns)
    read_runtime(url, timedelta(days=30))
    with connect_readonly(url) as (connection, _):
        with pytest.raises(OperationalError, match="readonly"):
            connection.execute(text("UPDATE dag SET is_paused = 1"))
    assert (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns) == before
    assert not Path(f"{database}-journal").exists() and not Path(f"{database}-wal").exists()


def test_an_unknown_schema_version_is_one_line_naming_it(database, tmp_path):
    copy = tmp_path / "future.db"
    copy.write_bytes(database.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff00000000'")
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", f"sqlite:///{copy}"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: sqlite:///{copy}: unknown Airflow schema version ffff00000000 (alembic_version); understood: Airflow 2.7.0 to 3.1.8"
    ]
