"""`check --airflow-db`: MM501 and MM502 through the CLI, on the databases a real Airflow made
(sqlite and PostgreSQL, Airflow 2 and 3: tests/runtime_databases.py).

The fixture is checked as it is, and as a copy in which one sensor waits on another DAG than
the one Airflow recorded: the code changed since the database saw it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate.cli import main

from .conftest import SKYFLOW

pytestmark = pytest.mark.runtime

RETARGETED = "dags/partners/partner_fare_feed.py"
RECORDED, NOW = '"data_platform_dwh_daily_load"', '"data_platform_lake_compaction"'


def check(path: Path, cache_args: list[str], *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json", *cache_args, *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def analyze(path: Path, cache_args: list[str], url: str) -> dict:
    result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json", *cache_args, "--airflow-db", url])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def places(report: dict, code: str) -> set[tuple[str, int]]:
    return {(f["file"], f["line"]) for f in report["findings"] if f["code"] == code}


@pytest.fixture(scope="module")
def retargeted(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("retargeted") / "skyflow"
    shutil.copytree(SKYFLOW, copy, ignore=shutil.ignore_patterns("__pycache__", ".mesh-migrate-cache"))
    source = (copy / RETARGETED).read_text()
    assert source.count(RECORDED) == 1
    (copy / RETARGETED).write_text(source.replace(RECORDED, NOW))
    return copy


def test_findings_are_the_disagreements_analyze_reports(runtime_database, cache_args):
    """MM501 at each static dependency not seen, MM502 at each runtime-only edge of a DAG the code defines."""
    code, report = check(SKYFLOW, cache_args, "--airflow-db", runtime_database.url)
    analysis = analyze(SKYFLOW, cache_args, runtime_database.url)
    assert code == 1
    assert places(report, "MM501") == {(d["file"], d["line"]) for d in analysis["dependencies"] if d["runtime"] == "not_seen"}
    assert places(report, "MM501")  # the fixture's DAGs Airflow never parsed
    defined = {d["dag_id"] for d in analysis["dags"]}
    assert not any(e["dag"] in defined for e in analysis["runtime"]["runtime_only"])
    assert places(report, "MM502") == set()
    assert {f["severity"] for f in report["findings"] if f["code"] == "MM501"} == {"warning"}
    _, static = check(SKYFLOW, cache_args)
    assert not places(static, "MM501") | places(static, "MM502")  # without the database, none


def test_a_retargeted_sensor_is_both_not_seen_and_runtime_only(runtime_database, retargeted, cache_args):
    _, report = check(retargeted, cache_args, "--airflow-db", runtime_database.url)
    source = (retargeted / RETARGETED).read_text().splitlines()
    sensor_line = next(n for n, line in enumerate(source, 1) if "wait_dwh = ETS(" in line)
    dag_line = next(n for n, line in enumerate(source, 1) if line.startswith("with DAG("))
    mm502 = [f for f in report["findings"] if f["code"] == "MM502"]
    assert [(f["file"], f["line"], f["severity"], f["team"]) for f in mm502] == [(RETARGETED, dag_line, "error", "partners")]
    assert "'wait_dwh_load' in DAG 'partners_fare_feed' waiting on DAG 'data_platform_dwh_daily_load'" in mm502[0]["message"]
    mm501 = [f for f in report["findings"] if f["code"] == "MM501" and f["file"] == RETARGETED]
    assert [(f["line"], f["severity"]) for f in mm501] == [(sensor_line, "warning")]
    assert "waiting on DAG 'data_platform_lake_compaction'" in mm501[0]["message"]


def test_runtime_findings_are_suppressed_and_baselined_like_the_others(runtime_database, retargeted, tmp_path, cache_args):
    copy = tmp_path / "skyflow"
    shutil.copytree(retargeted, copy)
    path = copy / RETARGETED
    path.write_text(path.read_text().replace('with DAG(\n', 'with DAG(  # mesh: ignore[MM502] retired with the old warehouse\n', 1))
    _, report = check(copy, cache_args, "--airflow-db", runtime_database.url)
    assert [f["suppressed"] for f in report["findings"] if f["code"] == "MM502"] == [True]
    baseline = tmp_path / "baseline.json"
    result = CliRunner().invoke(main, ["check", str(copy), *cache_args, "--airflow-db", runtime_database.url, "--write-baseline", str(baseline)])
    assert result.exit_code == 0, result.output
    code, report = check(copy, cache_args, "--airflow-db", runtime_database.url, "--baseline", str(baseline))
    assert code == 0 and report["summary"]["clean"]
    assert places(report, "MM501") and all(f["baselined"] for f in report["findings"] if f["code"] == "MM501")


def test_a_bad_database_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["check", str(SKYFLOW), "--airflow-db", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: sqlite:///{tmp_path}/none.db: no such file {tmp_path}/none.db"]
