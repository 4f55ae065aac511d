"""The metadata database reader on the databases a real Airflow 2.10 and 3.1 made, in sqlite and
in PostgreSQL (tests/runtime_databases.py): what the issue's "done" asks, asserted on all four.

Skipped when a database is absent; `make verify-runtime` makes all four and sets
MESH_RUNTIME_DB=required, which makes a missing one a failure.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from mesh_migrate.analysis import with_runtime
from mesh_migrate.cli import main
from mesh_migrate.runtime.connect import connect_readonly
from mesh_migrate.runtime.reader import read_runtime

from .runtime_databases import MAJORS, RuntimeDatabase, runtime_database

sys.path.insert(0, str(Path(__file__).parent / "airflow"))
import runtime_db as planted  # noqa: E402  (the names the builder planted)

REPO = Path(__file__).resolve().parents[1]
# Airflow major -> (release, alembic head) the database's Airflow writes.
RELEASES = {2: ("2.10.3", "5f2621c13b39"), 3: ("3.1.8", "509b94a1042d")}
SKYFLOW = REPO / "fixtures" / "skyflow"
RECORDED = {"sensor", "trigger", "dataset"}  # the kinds Airflow records in serialized_dag
DEAD = {"paused", "inactive", "not_run"}

pytestmark = pytest.mark.runtime


def analyze_json(url: str, cache_args: list[str]) -> dict:
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--airflow-db", url, "--since", "30d", *cache_args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def analysis(runtime_database, cache_args) -> dict:
    return analyze_json(runtime_database.url, cache_args)


def failed_files(database: RuntimeDatabase) -> set[str]:
    """The fixture's files (dags/...) Airflow failed to import or serialize, as the loader reported them."""
    if database.airflow_major == 2:
        return {"dags/" + path.split("/fixtures/skyflow/dags/", 1)[1] for path in database.report["import_errors"]}
    return {f"dags/{path}" for path in database.report["not_loaded"]}


def key(edge: dict) -> tuple[str, str, str]:
    return edge["kind"], edge["source"], edge["target"]


def test_schema_and_history_are_read(runtime_database):
    facts = read_runtime(runtime_database.url, timedelta(days=30))
    assert (facts.airflow_version, facts.schema_revision) == RELEASES[runtime_database.airflow_major]
    assert facts.dag_runs == runtime_database.report["dag_runs"] - 1  # all but the paused DAG's run of 60 days ago
    paused = facts.dag(planted.PAUSED)
    assert paused and paused.is_paused and paused.runs == 0
    everything = read_runtime(runtime_database.url, timedelta(days=90))
    assert everything.dag(planted.PAUSED).runs == 1
    assert everything.task_runs == len(everything.tasks) == runtime_database.report["task_instances"]
    assert len(everything.dags) == runtime_database.report["dags"]


def test_every_runtime_edge_is_matched_to_a_static_one_or_reported_runtime_only(runtime_database, analysis):
    edges = read_runtime(runtime_database.url, timedelta(days=30)).edges
    assert edges
    seen = {key(d) for d in analysis["dependencies"] if d["runtime"] == "seen"}
    resolved = {(r["dag"], r["task_id"]) for r in analysis["runtime"]["resolved"]}
    only = [key(e) for e in analysis["runtime"]["runtime_only"]]
    assert all(e["origin"] == "runtime" for e in analysis["runtime"]["runtime_only"])
    for edge in edges:
        places = [(edge.kind, edge.source, edge.target) in seen, (edge.dag, edge.task_id) in resolved, (edge.kind, edge.source, edge.target) in only]
        assert places.count(True) == 1, (edge, places)
    # A static dependency is seen exactly when Airflow recorded its edge.
    recorded = {(e.kind, e.source, e.target) for e in edges}
    assert all((key(d) in recorded) == (d["runtime"] == "seen") for d in analysis["dependencies"] if d["runtime"] is not None)
    # The static pass misses no edge of an analyzed DAG: the runtime-only ones are all in DAGs only the database knows.
    flags = {d["dag_id"]: d["flags"] for d in analysis["runtime"]["dags"]}
    assert only and all("only_in_db" in flags.get(e["dag"], ()) for e in analysis["runtime"]["runtime_only"])


def test_every_static_edge_not_seen_is_one_airflow_could_not_record(runtime_database, analysis):
    """Not seen: its file failed in Airflow, or its DAG was never parsed. Airflow 2 records no
    sensor or trigger of the providers-standard classes: those are not recorded (null)."""
    file_of = {d["dag_id"]: d["file"] for d in analysis["dags"]}
    failed = failed_files(runtime_database)
    never_parsed = {d["dag_id"] for d in analysis["runtime"]["dags"] if "not_in_db" in d["flags"]}

    def untracked(dep: dict) -> bool:
        standard = (dep["operator"] or "").startswith("airflow.providers.standard.")
        return runtime_database.airflow_major == 2 and dep["kind"] in ("sensor", "trigger") and standard

    def unrecordable(dep: dict) -> bool:
        producer_failed = dep["kind"] == "dataset" and file_of.get(dep["source"]) in failed
        return dep["file"] in failed or dep["dag"] in never_parsed or producer_failed

    recorded = [d for d in analysis["dependencies"] if d["kind"] in RECORDED and not untracked(d)]
    assert all(d["runtime"] in ("seen", "not_seen") for d in recorded)
    assert all(d["runtime"] is None for d in analysis["dependencies"] if d not in recorded)
    assert any(untracked(d) for d in analysis["dependencies"]) == (runtime_database.airflow_major == 2)
    # Matching is by kind, source and target: an edge one file Airflow loads also holds is seen.
    recordable = {key(d) for d in recorded if not unrecordable(d)}
    assert [d for d in recorded if (d["runtime"] == "seen") != (key(d) in recordable)] == []
    assert any(d["runtime"] == "not_seen" for d in recorded)


def test_variable_and_jinja_targets_are_resolved_from_runtime(analysis):
    resolved = {(r["dag"], r["task_id"]): r for r in analysis["runtime"]["resolved"]}
    by_variable = resolved[("crm_customer_segments", "trigger_crm_sync")]
    assert by_variable["other_dag"] == planted.VARIABLES["crm_sync_dag_id"] and not by_variable["rendered"]
    by_jinja = resolved[planted.RENDERED]
    assert by_jinja["other_dag"] == planted.VARIABLES["upstream_dag"] and by_jinja["rendered"]
    assert by_jinja["expression"] == "{{ var.value.upstream_dag }}"
    assert len(resolved) == 2


def test_the_planted_dead_dags_and_only_they_are_flagged_dead(analysis):
    flags = {d["dag_id"]: d["flags"] for d in analysis["runtime"]["dags"]}
    assert flags[planted.PAUSED] == ["paused", "not_run"]  # its only run is 60 days old
    assert flags[planted.NEVER_RUN] == ["not_run"]
    assert flags[planted.RETIRED] == ["only_in_db", "inactive", "not_run"]
    assert {dag for dag, f in flags.items() if DEAD & set(f)} == {planted.PAUSED, planted.NEVER_RUN, planted.RETIRED}


def test_the_sizing_table_adds_up_to_the_monolith(runtime_database, skyflow):
    """Over 90 days every task instance the loader wrote is in exactly one team's row, and the
    rows' task-hours are the durations Airflow stored, summed by the database itself."""
    sizing = with_runtime(skyflow, read_runtime(runtime_database.url, timedelta(days=90))).sizing
    assert sizing is not None
    assert sum(t.task_runs_per_day for t in sizing.teams) * sizing.days == pytest.approx(runtime_database.report["task_instances"])
    assert sizing.monolith.task_runs == runtime_database.report["task_instances"]
    with connect_readonly(runtime_database.url) as (connection, _):
        seconds = connection.execute(text("SELECT SUM(duration) FROM task_instance")).scalar()
    assert sum(t.task_hours_per_day for t in sizing.teams) * sizing.days == pytest.approx(seconds / 3600)
    assert sizing.monolith_task_hours_per_day * sizing.days == pytest.approx(seconds / 3600)
    assert sum(t.dags for t in sizing.teams) == len({d.dag_id for d in skyflow.facts.dags} | {d.dag_id for d in sizing_dags(runtime_database)})
    assert sizing.mesh_monthly_cost == pytest.approx(sum(t.monthly_cost for t in sizing.teams))


def sizing_dags(database: RuntimeDatabase):
    return read_runtime(database.url, timedelta(days=90)).dags


def test_text_summary_and_plans_show_it(runtime_database, tmp_path, cache_args):
    """One report per database (writing it takes long): terminal, summary.md, plans, sizing.svg."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", runtime_database.url, "--out", str(out), *cache_args])
    assert result.exit_code == 0, result.output
    assert "{{ var.value.upstream_dag }} -> crm_account_merges_hourly (rendered by Airflow)" in result.output
    assert "only in the database (no analyzed file defines it: deleted, or left out)" in result.output and planted.RETIRED in result.output
    plan = (out / "plans" / "customer_service.md").read_text()
    assert "## What runs (metadata database)" in plan and "## Size of the team's instance" in plan
    assert f"`{planted.NEVER_RUN}`: not run in the window" in plan
    summary = (out / "summary.md").read_text()
    assert "## What runs (metadata database)" in summary and "## Size of each team's instance" in summary
    assert f"`{planted.RETIRED}`" in summary and f"`{planted.PAUSED}` (crm)" in summary
    assert "`{{ var.value.upstream_dag }}` at dags/customer_service/ticket_sync.py" in summary
    # The YAML plan carries the same, as data.
    document = yaml.safe_load((out / "plans" / "customer_service.yaml").read_text())
    assert [(r["dag"], r["task_id"], r["other_dag"]) for r in document["runtime"]["resolved"]] == [(*planted.RENDERED, planted.VARIABLES["upstream_dag"])]
    assert {d["dag_id"]: d["flags"] for d in document["runtime"]["dags"]}[planted.NEVER_RUN] == ["not_run"]
    assert {d["runtime"] for d in document["runtime"]["dependencies"]} <= {"seen", "not_seen", None}
    assert "seen" in {d["runtime"] for d in document["runtime"]["dependencies"]}
    assert document["sizing"]["team"] == "customer_service" and document["sizing"]["formula"].startswith("worker slots")
    assert "## Size of the team's instance" in (out / "plans" / "pricing.md").read_text()
    chart = ET.fromstring((out / "sizing.svg").read_text())
    assert len(chart.findall("{http://www.w3.org/2000/svg}rect")) == len(sizing_rows(out))


def sizing_rows(out: Path) -> list[str]:
    """The rows of summary.md's sizing table, without its total: one bar each in sizing.svg."""
    summary = (out / "summary.md").read_text()
    rows = summary[summary.index("## Size of each team's instance"):].splitlines()
    return [row.split("|")[1].strip() for row in rows if row.startswith("| ") and not row.startswith("| team") and "**total**" not in row]


@pytest.fixture(scope="module", params=MAJORS, ids=lambda major: f"airflow{major}")
def sqlite_database(request) -> RuntimeDatabase:
    return runtime_database("sqlite", request.param)


@pytest.fixture(scope="module", params=MAJORS, ids=lambda major: f"airflow{major}")
def postgres_database(request) -> RuntimeDatabase:
    return runtime_database("postgresql", request.param)


def test_nothing_is_written_to_sqlite(sqlite_database):
    database, url = sqlite_database.path, sqlite_database.url
    assert database is not None
    before = (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns)
    read_runtime(url, timedelta(days=30))
    with connect_readonly(url) as (connection, _):
        with pytest.raises(OperationalError, match="readonly"):
            connection.execute(text("UPDATE dag SET is_paused = 1"))
    assert (hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns) == before
    assert not Path(f"{database}-journal").exists() and not Path(f"{database}-wal").exists()


# Per table: rows inserted, updated, deleted (the server's own counters), and rows now.
WRITES = """SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup FROM pg_stat_user_tables ORDER BY relname"""
READ_TABLES = ("alembic_version", "dag", "serialized_dag", "dag_run", "task_instance", "rendered_task_instance_fields", "slot_pool")


def _postgres_state(url: str) -> tuple:
    """What a write would change, read through a connection of its own (not the reader's)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counters = connection.execute(text(WRITES)).all()
            rows = {table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in READ_TABLES}
            return counters, rows
    finally:
        engine.dispose()


def test_nothing_is_written_to_postgresql(postgres_database):
    url = postgres_database.url
    before = _postgres_state(url)
    read_runtime(url, timedelta(days=30))
    with connect_readonly(url) as (connection, _):
        assert connection.execute(text("SHOW transaction_read_only")).scalar() == "on"
        with pytest.raises(DBAPIError, match="read-only transaction"):
            connection.execute(text("UPDATE dag SET is_paused = NOT is_paused"))
    # The sessions are gone, so the server has counted whatever they did.
    assert _postgres_state(url) == before


def _readme_sql(dialect: str) -> list[str]:
    """The statements of the README's read-only user for DIALECT (the block after its heading)."""
    readme = (REPO / "README.md").read_text()
    block = re.search(rf"-- read-only user, {dialect}\n(.*?)```", readme, re.S)
    assert block, f"README has no ```sql block starting with '-- read-only user, {dialect}'"
    return [statement.strip() for statement in block.group(1).split(";") if statement.strip()]


def test_the_readme_read_only_user_can_read_and_cannot_write(postgres_database):
    """The README's SQL, run as written (the database's name put in), is all the reader needs."""
    database = f"airflow{postgres_database.airflow_major}"
    admin = create_engine(postgres_database.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'mesh_readonly'")).scalar()
            for statement in _readme_sql("PostgreSQL"):
                if exists and statement.startswith("CREATE ROLE"):
                    continue  # one role for the server; the grants are per database
                connection.execute(text(statement.replace("DATABASE airflow ", f"DATABASE {database} ")))
    finally:
        admin.dispose()
    readonly = postgres_database.url.replace("//mesh@", "//mesh_readonly@")
    assert readonly != postgres_database.url
    facts = read_runtime(readonly, timedelta(days=90))
    assert facts.task_runs == postgres_database.report["task_instances"]
    with connect_readonly(readonly) as (connection, _):
        with pytest.raises(DBAPIError, match="read-only transaction|permission denied"):
            connection.execute(text("DELETE FROM dag"))


def test_an_unknown_schema_version_is_one_line_naming_it(sqlite_database, tmp_path):
    assert sqlite_database.path is not None
    copy = tmp_path / "future.db"
    copy.write_bytes(sqlite_database.path.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff00000000'")
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--airflow-db", f"sqlite:///{copy}"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: sqlite:///{copy}: unknown Airflow schema version ffff00000000 (alembic_version); understood: Airflow 2.7.0 to 3.1.8"
    ]
