"""Every codemod as before/after source pairs; the "after" is applied twice to prove idempotence."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.runner import apply_changes, run_codemod
from mesh_migrate.extract.runner import ExtractOptions

from .conftest import write_repo

MESH = """
version: 1
teams:
  a:
    paths: ["dags/a/**"]
    instance: {http_conn_id: airflow_a, api_version: 2}
  b:
    paths: ["dags/b/**"]
    instance: {http_conn_id: airflow_b, api_version: 3}
  c:
    paths: ["dags/c/**"]
    instance: {http_conn_id: airflow_c, api_version: 2}
"""
UPSTREAMS = {
    "dags/b/up.py": "from airflow import DAG\nfor name in ['b_up', 'b_other']:\n    DAG(name)\n",
    "dags/c/up.py": "from airflow import DAG\nDAG('c_up')\n",
}
OPTIONS = ExtractOptions(jobs=1, use_cache=False)
DATE_V2 = '"{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}"'


def run(tmp_path, source: str, team: str = "a", **kwargs):
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, "dags/a/down.py": source})
    return run_codemod(analyze(tmp_path, options=OPTIONS), team, **kwargs)


def rewritten(tmp_path, source: str, **kwargs) -> str:
    result = run(tmp_path, source, **kwargs)
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    ast.parse(change.after)
    apply_changes(tmp_path, result.changes)
    again = run_codemod(analyze(tmp_path, options=OPTIONS), "a", **kwargs)
    assert again.changes == (), "a second run must change nothing"
    return change.after


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_sensor_on_a_whole_dag_of_an_airflow_3_team(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up", mode="reschedule", timeout=600, soft_fail=True, retries=2)
    ''')
    after = src('''
        from airflow import DAG
        from airflow.providers.http.sensors.http import HttpSensor
        from mesh_http import dag_run_state

        with DAG("a_down") as dag:
            HttpSensor(task_id="wait", http_conn_id="airflow_b", endpoint="api/v2/dags/b_up/dagRuns", request_params={"logical_date_gte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}", "logical_date_lte": "{{ (dag_run.logical_date or dag_run.run_after).isoformat() }}"}, response_check=dag_run_state(), mode="reschedule", timeout=600, soft_fail=True, retries=2)
    ''')
    assert rewritten(tmp_path, before) == after


def test_sensor_on_a_task_of_an_airflow_2_team_with_delta_and_states(tmp_path):
    before = src('''
        from datetime import timedelta

        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            # Yesterday's close must be final.
            wait = ExternalTaskSensor(
                task_id="wait_close",
                external_dag_id="c_up",  # the ledger
                external_task_id="close",
                execution_delta=timedelta(hours=1),
                allowed_states=["success", "skipped"],
                failed_states=["failed"],
                poke_interval=120,
            )
    ''')
    after = src('''
        from airflow import DAG
        from airflow.providers.http.sensors.http import HttpSensor
        from mesh_http import task_instance_states

        with DAG("a_down") as dag:
            # Yesterday's close must be final.
            wait = HttpSensor(
                task_id="wait_close",
                http_conn_id="airflow_c",
                endpoint="api/v1/dags/c_up/dagRuns/~/taskInstances",  # the ledger
                request_params={
                    "execution_date_gte": "{{ ((dag_run.logical_date or dag_run.run_after) - macros.timedelta(seconds=3600)).isoformat() }}",
                    "execution_date_lte": "{{ ((dag_run.logical_date or dag_run.run_after) - macros.timedelta(seconds=3600)).isoformat() }}",
                    "limit": 1000,
                },
                response_check=task_instance_states(task_ids=["close"], allowed_states=["success", "skipped"], failed_states=["failed"]),
                poke_interval=120,
            )
    ''')
    assert rewritten(tmp_path, before) == after


@pytest.mark.parametrize(
    "argument, check",
    [
        ('external_task_ids=["load", "check"]', 'task_instance_states(task_ids=["load", "check"])'),
        ('external_task_group_id="publish"', 'task_instance_states(task_group_id="publish")'),
    ],
)
def test_task_list_and_task_group_checks(tmp_path, argument, check):
    before = f'from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up", {argument})\n'
    after = rewritten(tmp_path, before)
    assert f"response_check={check})" in after
    assert 'endpoint="api/v1/dags/c_up/dagRuns/~/taskInstances"' in after


@pytest.mark.parametrize(
    "fn, date",
    [
        ("lambda dt: dt - timedelta(days=1)", "((dag_run.logical_date or dag_run.run_after) - macros.timedelta(seconds=86400))"),
        ("lambda d, **_: d.replace(hour=0, minute=0)", "(dag_run.logical_date or dag_run.run_after).replace(hour=0, minute=0)"),
        ("lambda dt: (dt + timedelta(hours=2)).start_of", "((dag_run.logical_date or dag_run.run_after) + macros.timedelta(seconds=7200))"),
    ],
)
def test_simple_execution_date_fn_lambdas_are_translated(tmp_path, fn, date):
    if fn.endswith("start_of"):
        fn += "()"
        date += ".start_of()"
    before = f'from datetime import timedelta\nfrom airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up", execution_date_fn={fn})\n'
    after = rewritten(tmp_path, before)
    assert f'"{{{{ {date}.isoformat() }}}}"' in after
    assert "execution_date_fn" not in after


@pytest.mark.parametrize(
    "fn",
    [
        "compute_date",
        "lambda dt: [dt, dt - timedelta(hours=1)]",
        "lambda dt: (dt + timedelta(hours=2)).start_of('day')",
        "lambda dt: dt - timedelta(hours=OFFSET)",
    ],
)
def test_other_execution_date_fns_are_left_alone_and_listed(tmp_path, fn):
    before = f'from datetime import timedelta\nfrom airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nOFFSET = 2\ndef compute_date(dt, **_):\n    return dt\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up", execution_date_fn={fn})\n'
    result = run(tmp_path, before)
    assert not [c for c in result.changes if c.path == "dags/a/down.py"]
    [manual] = result.manual
    assert manual.span.line == 8 and manual.what == "sensor w on c_up (c)" and manual.task_id == "w"


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from airflow.sensors.external_task import ExternalTaskSensor as ETS", "ETS"),
        ("from airflow.sensors import external_task as et", "et.ExternalTaskSensor"),
        ("import airflow.sensors.external_task", "airflow.sensors.external_task.ExternalTaskSensor"),
        ("from airflow.providers.standard.sensors.external_task import ExternalTaskSensor", "ExternalTaskSensor"),
        ("from airflow.sensors.external_task_sensor import ExternalTaskSensor", "ExternalTaskSensor"),
    ],
)
def test_aliased_imports_are_rewritten_and_the_import_removed(tmp_path, imports, call):
    before = f'from airflow import DAG\n{imports}\nwith DAG("a_down"):\n    {call}(task_id="w", external_dag_id="c_up")\n'
    after = rewritten(tmp_path, before)
    # libcst's import adder separates new imports from the code with one blank line.
    assert after.splitlines()[1:5] == [
        "from airflow.providers.http.sensors.http import HttpSensor",
        "from mesh_http import dag_run_state",
        "",
        'with DAG("a_down"):',
    ]
    assert after.splitlines()[5].startswith('    HttpSensor(task_id="w", http_conn_id="airflow_c", endpoint="api/v1/dags/c_up/dagRuns"')


def test_intra_team_sensors_and_every_other_line_stay_byte_for_byte(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            same_team = ExternalTaskSensor(task_id="same",   external_dag_id="a_down"  )   # odd spacing stays
            other = ExternalTaskSensor(task_id="other", external_dag_id="c_up")
            same_team >> other
    ''')
    after = rewritten(tmp_path, before)
    old, new = before.splitlines(), after.splitlines()
    assert new[0:2] == old[0:2] and "ExternalTaskSensor" in new[1]  # still used: the import stays
    assert old[4] in new and old[6] in new
    assert new[new.index(old[4]) + 1].startswith('    other = HttpSensor(task_id="other", http_conn_id="airflow_c"')


def test_sensors_in_a_loop_on_one_team_use_the_loop_variable(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            for upstream in ["b_up", "b_other"]:
                ExternalTaskSensor(task_id=f"wait_{upstream}", external_dag_id=upstream)
    ''')
    after = rewritten(tmp_path, before)
    assert 'endpoint="api/v2/dags/" + upstream + "/dagRuns"' in after
    assert 'HttpSensor(task_id=f"wait_{upstream}", http_conn_id="airflow_b"' in after


def test_a_loop_over_several_teams_and_helpers_are_manual_work(tmp_path):
    write_repo(tmp_path, {"dags/common/__init__.py": "", "dags/common/sensors.py": src('''
        from airflow.sensors.external_task import ExternalTaskSensor
        def wait_for(dag_id):
            return ExternalTaskSensor(task_id=f"wait_for_{dag_id}", external_dag_id=dag_id)
    ''')})
    before = src('''
        import functools
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        from common.sensors import wait_for
        Quick = functools.partial(ExternalTaskSensor, mode="reschedule")
        with DAG("a_down") as dag:
            for upstream in ["b_up", "c_up"]:
                ExternalTaskSensor(task_id=f"wait_{upstream}", external_dag_id=upstream)
            wait_for("c_up")
            Quick(task_id="quick", external_dag_id="c_up")
    ''')
    result = run(tmp_path, before)
    assert [c.path for c in result.changes] == []
    whys = sorted((m.span.line, m.task_id, m.why.split(":")[0]) for m in result.manual)
    assert whys == [
        (8, "wait_b_up", "one call creates dependencies within the team and on other teams, or on several teams"),
        (8, "wait_c_up", "one call creates dependencies within the team and on other teams, or on several teams"),
        (9, "wait_for_c_up", "built by a helper in dags/common/sensors.py"),
        (10, "quick", "built through functools.partial or a subclass"),
    ]


def test_trigger_becomes_an_http_post(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator

        with DAG("a_down") as dag:
            kick = TriggerDagRunOperator(
                task_id="kick",
                trigger_dag_id="c_up",
                conf={"date": "{{ ds }}"},
                retries=3,
            )
    ''')
    after = src('''
        from airflow import DAG
        from airflow.providers.http.operators.http import HttpOperator
        from mesh_http import dag_run_body

        with DAG("a_down") as dag:
            kick = HttpOperator(
                task_id="kick",
                http_conn_id="airflow_c",
                endpoint="api/v1/dags/c_up/dagRuns",
                method="POST",
                headers={"Content-Type": "application/json"},
                data=dag_run_body(conf={"date": "{{ ds }}"}, api_version=2),
                retries=3,
            )
    ''')
    assert rewritten(tmp_path, before) == after


def test_trigger_waiting_for_completion_polls_the_run(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

        with DAG("a_down") as dag:
            TriggerDagRunOperator(task_id="kick", trigger_dag_id="b_up", wait_for_completion=True, poke_interval=30, failed_states=["failed"])
    ''')
    after = rewritten(tmp_path, before)
    call = after.splitlines()[-1]
    assert call.startswith('    TriggerRemoteDagRun(task_id="kick", http_conn_id="airflow_b", endpoint="api/v2/dags/b_up/dagRuns", method="POST"')
    assert 'data=dag_run_body(api_version=3, dag_run_id="mesh__{{ dag.dag_id }}__{{ run_id }}")' in call
    assert 'run_endpoint="api/v2/dags/b_up/dagRuns/mesh__{{ dag.dag_id }}__{{ run_id }}"' in call
    assert call.endswith('wait_for_completion=True, poke_interval=30, failed_states=["failed"])')
    assert "from mesh_http import TriggerRemoteDagRun, dag_run_body" in after


def test_trigger_with_options_that_have_no_http_equivalent_is_manual(tmp_path):
    before = 'from airflow import DAG\nfrom airflow.operators.trigger_dagrun import TriggerDagRunOperator\nwith DAG("a_down"):\n    TriggerDagRunOperator(task_id="k", trigger_dag_id="c_up", reset_dag_run=True)\n'
    result = run(tmp_path, before)
    assert [c.path for c in result.changes] == []
    [manual] = result.manual
    assert "reset_dag_run has no HTTP equivalent" in manual.why


def test_marker_is_kept_with_a_comment_unless_removal_is_asked(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker

        with DAG("a_down") as dag:
            clear = ExternalTaskMarker(task_id="clear", external_dag_id="c_up", external_task_id="wait")
    ''')
    kept = rewritten(tmp_path, before)
    assert kept.splitlines()[4:6] == [
        "    # mesh-migrate: ExternalTaskMarker on c_up (team c) cannot clear across Airflow instances: clear it there by hand, or rerun the codemod with --remove-markers",
        '    clear = ExternalTaskMarker(task_id="clear", external_dag_id="c_up", external_task_id="wait")',
    ]
    (tmp_path / "dags/a/down.py").write_text(before)
    removed = rewritten(tmp_path, before, remove_markers=True)
    assert removed.splitlines()[1] == "from airflow.operators.empty import EmptyOperator"
    assert removed.splitlines()[-1] == '    clear = EmptyOperator(task_id="clear")'


def test_datasets_across_teams_are_listed_not_rewritten(tmp_path):
    write_repo(tmp_path, {"dags/c/producer.py": 'from airflow import DAG, Dataset\nfrom airflow.operators.bash import BashOperator\nwith DAG("c_prod"):\n    BashOperator(task_id="p", bash_command="x", outlets=[Dataset("s3://x")])\n'})
    result = run(tmp_path, 'from airflow import DAG, Dataset\nDAG("a_down", schedule=[Dataset("s3://x")])\n')
    assert result.changes == ()
    assert [m.what for m in result.manual] == ["dataset on c_prod (c)"]


def test_the_helper_module_is_written_once_and_a_custom_one_is_kept(tmp_path):
    before = 'from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up")\n'
    result = run(tmp_path, before)
    helper = [c for c in result.changes if c.path == "dags/mesh_http.py"]
    assert len(helper) == 1 and helper[0].before == "" and "class ExternalTaskSensor" in helper[0].after
    ast.parse(helper[0].after)
    (tmp_path / "dags/mesh_http.py").write_text("# ours\n")
    result = run(tmp_path, before)
    assert [c.path for c in result.changes] == ["dags/a/down.py"]
