"""Reconciling static facts with runtime facts, built in memory; and the CLI's errors on a bad database."""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from mesh_migrate.cli import main
from mesh_migrate.facts import DagFact, DependencyFact, RepoFacts, SourceSpan, Unresolved
from mesh_migrate.runtime import RuntimeDag, RuntimeEdge, RuntimeFacts, parse_since, reconcile

NOW = datetime(2026, 1, 31, tzinfo=timezone.utc)


def dag(dag_id: str, path: str = "dags/a.py") -> DagFact:
    return DagFact(dag_id, SourceSpan(path, 1), "with")


def dependency(kind: str, source: str, target: str, dag_id: str, task_id: str) -> DependencyFact:
    return DependencyFact(kind, source, target, dag_id, task_id, SourceSpan("dags/a.py", 5))


def rdag(dag_id: str, *, paused=False, active=True, runs=1) -> RuntimeDag:
    return RuntimeDag(dag_id, paused, active, f"/dags/{dag_id}.py", ("team",), NOW, runs, NOW if runs else None)


def runtime(dags, edges) -> RuntimeFacts:
    return RuntimeFacts("sqlite:///x.db", "5f2621c13b39", "2.10.3", NOW, NOW, tuple(dags), tuple(edges), 1, 1)


def test_static_edges_are_seen_or_not_and_markers_are_not_recorded():
    facts = RepoFacts(".", ("dags/a.py",), dags=(dag("up"), dag("down")), dependencies=(
        dependency("sensor", "up", "down", "down", "wait"),
        dependency("trigger", "down", "up", "down", "kick"),
        dependency("marker", "down", "up", "down", "mark"),
    ))
    result = reconcile(facts, runtime([rdag("up"), rdag("down")], [RuntimeEdge("sensor", "up", "down", "down", "wait")]))
    assert result.statuses == ("seen", "not_seen", None)
    assert result.runtime_only == () and result.flagged == ()


def test_runtime_only_edges_and_resolved_targets():
    item = Unresolved("external_dag_id of ExternalTaskSensor 'wait_x'", "{{ var.value.x }}", "Jinja template", SourceSpan("dags/a.py", 9))
    facts = RepoFacts(".", ("dags/a.py",), dags=(dag("down"), dag("up", "dags/up.py")), unresolved=(item,))
    resolving = RuntimeEdge("sensor", "up", "down", "down", "wait_x", rendered=True)
    extra = RuntimeEdge("trigger", "up", "down", "up", "kick")
    bogus = RuntimeEdge("sensor", "{{ var.value.y }}", "down", "down", "wait_y")
    result = reconcile(facts, runtime([rdag("up"), rdag("down")], [resolving, extra, bogus]))
    assert [(r.dag, r.task_id, r.other_dag) for r in result.resolved] == [("down", "wait_x", "up")]
    assert result.runtime_only == (extra,)


def test_dead_dags_are_flagged():
    facts = RepoFacts(".", ("dags/a.py",), dags=(dag("paused"), dag("idle"), dag("fine"), dag("unparsed")))
    dags = [rdag("paused", paused=True), rdag("idle", runs=0), rdag("fine"), rdag("gone", active=False, runs=0)]
    result = reconcile(facts, runtime(dags, []))
    assert {f.dag_id: f.flags for f in result.flagged} == {
        "paused": ("paused",), "idle": ("not_run",), "gone": ("only_in_db", "inactive", "not_run"), "unparsed": ("not_in_db",),
    }


@pytest.mark.parametrize("text, days", [("30d", 30), ("12h", 0.5), ("2w", 14)])
def test_since(text, days):
    assert parse_since(text).total_seconds() == days * 86400


@pytest.mark.parametrize("since", ["30", "0d", "1y", ""])
def test_a_bad_since_is_refused(since):
    with pytest.raises(ValueError, match="--since"):
        parse_since(since)


def errors(tmp_path, url: str, *extra: str) -> tuple[int, list[str]]:
    (tmp_path / "repo" / "dags").mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "repo"), "--airflow-db", url, *extra])
    return result.exit_code, result.output.strip().splitlines()


def test_a_bad_url_is_one_line(tmp_path):
    assert errors(tmp_path, "not a url") == (2, ["error: --airflow-db 'not a url' is not a database URL (e.g. sqlite:////path/airflow.db, postgresql+psycopg://user@host/airflow)"])
    assert errors(tmp_path, f"sqlite:///{tmp_path}/missing.db") == (2, [f"error: sqlite:///{tmp_path}/missing.db: no such file {tmp_path}/missing.db"])
    code, lines = errors(tmp_path, "nosuchdb://host/x")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: nosuchdb://host/x: cannot open")


def test_a_database_that_is_not_airflows_is_one_line(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text)")
    assert errors(tmp_path, f"sqlite:///{other}") == (2, [f"error: sqlite:///{other}: not an Airflow metadata database (no table alembic_version)"])
    assert errors(tmp_path, f"sqlite:///{other}", "--since", "soon")[0] == 2


def test_airflow_2_records_no_sensor_or_trigger_of_the_providers_standard_classes():
    standard = DependencyFact("sensor", "up", "down", "down", "wait", SourceSpan("dags/a.py", 5), operator="airflow.providers.standard.sensors.external_task.ExternalTaskSensor")
    core = DependencyFact("trigger", "down", "up", "down", "kick", SourceSpan("dags/a.py", 7), operator="airflow.operators.trigger_dagrun.TriggerDagRunOperator")
    facts = RepoFacts(".", ("dags/a.py",), dags=(dag("up"), dag("down")), dependencies=(standard, core))
    on_2 = reconcile(facts, runtime([rdag("up"), rdag("down")], []))
    assert on_2.statuses == (None, "not_seen")
    on_3 = reconcile(facts, replace(runtime([rdag("up"), rdag("down")], []), airflow_version="3.1.8", schema_revision="509b94a1042d"))
    assert on_3.statuses == ("not_seen", "not_seen")


def test_a_postgresql_server_that_refuses_is_one_line(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, lines = errors(tmp_path, f"postgresql://reader:secret@127.0.0.1:{port}/airflow")
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"error: postgresql://reader:***@127.0.0.1:{port}/airflow: ") and "secret" not in lines[0]


@pytest.mark.parametrize("major", [2, 3])
def test_the_drop_in_classes_are_recorded_as_airflow_records_their_originals(major):
    from mesh_migrate.rulepack import load_rule_pack
    from mesh_migrate.runtime.reconcile import recorded_as

    rules = load_rule_pack()
    sensor = replace(dependency("mesh_sensor", "up", "down", "down", "wait"), operator="mesh_http.ExternalTaskSensor")
    trigger = replace(dependency("mesh_trigger", "down", "up", "down", "kick"), operator="mesh_http.TriggerDagRunOperator")
    legacy = replace(dependency("http_sensor", "up", "down", "down", "poll"), operator="airflow.providers.http.sensors.http.HttpSensor")
    assert recorded_as(sensor, rules, major) == "sensor"
    assert recorded_as(trigger, rules, major) == "trigger"
    assert recorded_as(legacy, rules, major) is None
