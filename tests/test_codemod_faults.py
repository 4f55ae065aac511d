"""The codemod under faults: several teams in one file, git that fails, signals, odd bytes.

Every case runs the real command line on a real git repository in tmp_path.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
from mesh_migrate.codemod.runner import run_codemod
from mesh_migrate.extract.runner import ExtractOptions

from .conftest import write_repo

OPTIONS = ExtractOptions(jobs=1, use_cache=False)
MESH = """
version: 1
teams:
  a: {dag_ids: ["a_*"], instance: {http_conn_id: airflow_a, api_version: 2}}
  b: {dag_ids: ["b_*"], instance: {http_conn_id: airflow_b, api_version: 2}}
  c: {dag_ids: ["c_*"], instance: {http_conn_id: airflow_c, api_version: 2}}
"""
UPSTREAM = "from airflow import DAG\nDAG('c_up')\n"
# DAGs of two teams in one file: b's first sensor stays in the team, its second leaves it.
MIXED = """\
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("a_one") as a_dag:
    ExternalTaskSensor(task_id="a_waits_c", external_dag_id="c_up")

with DAG("b_one") as b_dag:
    ExternalTaskSensor(task_id="b_waits_b", external_dag_id="b_two")
    ExternalTaskSensor(task_id="b_waits_c", external_dag_id="c_up")

with DAG("b_two") as b_two:
    pass
"""
MIXED_AFTER = """\
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.providers.http.sensors.http import HttpSensor
from mesh_http import dag_run_state

with DAG("a_one") as a_dag:
    HttpSensor(task_id="a_waits_c", http_conn_id="airflow_c", endpoint="api/v1/dags/c_up/dagRuns", request_params={"execution_date_gte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}", "execution_date_lte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}"}, response_check=dag_run_state())

with DAG("b_one") as b_dag:
    ExternalTaskSensor(task_id="b_waits_b", external_dag_id="b_two")
    HttpSensor(task_id="b_waits_c", http_conn_id="airflow_c", endpoint="api/v1/dags/c_up/dagRuns", request_params={"execution_date_gte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}", "execution_date_lte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}"}, response_check=dag_run_state())

with DAG("b_two") as b_two:
    pass
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def committed(root: Path, files: dict[str, str]) -> Path:
    """A git repository holding FILES in one commit."""
    write_repo(root, files)
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "monolith", cwd=root)
    return root


def codemod(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["codemod", str(root), *args, "--jobs", "1", "--no-cache"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output, result.output
    return result


def mixed_repo(root: Path) -> Path:
    return committed(root, {"mesh.yaml": MESH, "dags/c/up.py": UPSTREAM, "dags/mixed.py": MIXED})


# ---- several teams at once -----------------------------------------------------------------


@pytest.mark.parametrize("teams", [("--team", "a", "--team", "b"), ("--team", "b", "--team", "a"), ("--all-teams",)])
def test_several_teams_in_one_file_apply_what_the_diff_shows(tmp_path, teams):
    applied, diffed = mixed_repo(tmp_path / "applied"), mixed_repo(tmp_path / "diffed")
    result = codemod(applied, *teams, "--apply")
    assert result.exit_code == 0, result.output
    assert (applied / "dags/mixed.py").read_text() == MIXED_AFTER

    diff = codemod(diffed, *teams, "--diff")
    assert diff.exit_code == 0, diff.output
    subprocess.run(["git", "apply", "-"], input=diff.output, text=True, cwd=diffed, check=True)
    for path in ("dags/mixed.py", "dags/mesh_http.py"):
        assert (diffed / path).read_bytes() == (applied / path).read_bytes(), path


def test_several_teams_report_each_teams_rewrites(tmp_path):
    result = codemod(mixed_repo(tmp_path / "repo"), "--team", "a", "--team", "b", "--check")
    assert result.exit_code == 1
    assert "a: would rewrite 1 calls in 1 files" in result.output
    assert "b: would rewrite 1 calls in 1 files" in result.output
    assert "dags/mixed.py:9" in result.output and "dags/mixed.py:8" not in result.output


def test_a_file_edited_after_the_analysis_is_never_rewritten_at_stale_places(tmp_path):
    root = mixed_repo(tmp_path / "repo")
    analysis = analyze(root, options=OPTIONS)
    # Another operator now stands where the analysis saw b's cross-team sensor.
    edited = MIXED.replace('ExternalTaskSensor(task_id="b_waits_c", external_dag_id="c_up")', 'BashOperator(task_id="b_echo", bash_command="x")')
    (root / "dags/mixed.py").write_text(edited)
    result = run_codemod(analysis, "b")
    assert result.changes == ()
    assert [(m.span.line, m.why) for m in result.manual] == [(9, "the call here has no external_dag_id: analyze again, or rewrite by hand")]
