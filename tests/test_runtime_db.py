"""The metadata database reader on a database a real Airflow 2.10 made (make runtime-db).

Skipped when build/runtime-airflow2.db is absent; `make verify-runtime` sets
MESH_RUNTIME_DB=required, which makes a missing database a failure.
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
DB = REPO / "build" / "runtime-airflow2.db"
URL = f"sqlite:///{DB}"
SKYFLOW = REPO / "fixtures" / "skyflow"

pytestmark = pytest.mark.runtime


@pytest.fixture(scope="module")
def database() -> Path:
    if not DB.is_file():
        message = f"{DB} is missing: run make runtime-db"
        if os.environ.get("MESH_RUNTIME_DB") == "required":
            pytest.fail(message)
        pytest.skip(message)
    return DB


@pytest.fixture(scope="module")
def analysis(database):
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--airflow-db", URL, "--since", "30d", "--no-cache"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_schema_and_history_are_read(database):
    facts = read_runtime(URL, timedelta(days=30))
    assert facts.airflow_version == "2.10.3" and facts.schema_revision == "5f2621c13b39"
    assert facts.dag_runs > 100 and facts.task_runs > facts.dag_runs
    paused = facts.dag(planted.PAUSED)
    assert paused and paused.is_paused and paused.runs == 0  # its only run is 60 days old
    assert read_runtime(URL, timedelta(days=90)).dag(planted.PAUSED).runs == 1


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


def test_text_summary_and_plans_show_it(database, tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", URL, "--out", str(tmp_path / "out"), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "{{ var.value.upstream_dag }} -> crm_account_merges_hourly (rendered by Airflow)" in result.output
    assert f"only in the database (its file is gone)" in result.output and planted.RETIRED in result.output
    plan = (tmp_path / "out" / "plans" / "customer_service.md").read_text()
    assert "## What runs (metadata database)" in plan
    assert f"`{planted.NEVER_RUN}`: not run in the window" in plan


def test_nothing_is_written(database, tmp_path):
    before = (hashlib.sha256(DB.read_bytes()).hexdigest(), DB.stat().st_mtime_ns)
    read_runtime(URL, timedelta(days=30))
    with connect_readonly(URL) as (connection, _):
        with pytest.raises(OperationalError, match="readonly"):
            connection.execute(text("UPDATE dag SET is_paused = 1"))
    assert (hashlib.sha256(DB.read_bytes()).hexdigest(), DB.stat().st_mtime_ns) == before
    assert not Path(f"{DB}-journal").exists() and not Path(f"{DB}-wal").exists()


def test_an_unknown_schema_version_is_one_line_naming_it(database, tmp_path):
    copy = tmp_path / "future.db"
    copy.write_bytes(DB.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff00000000'")
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", f"sqlite:///{copy}"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: sqlite:///{copy}: unknown Airflow schema version ffff00000000 (alembic_version); understood: Airflow 2.7.0 to 3.1.8"
    ]
