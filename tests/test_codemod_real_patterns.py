"""Codemod cases met in real repositories, as before/after pairs: each reproduces the
pattern (not the repository's code) that a first version of the codemod got wrong."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
from mesh_migrate.codemod.registry import build_registry
from mesh_migrate.codemod.runner import REWRITTEN, apply_changes, run_codemod

from .conftest import write_repo
from .test_codemod_cases import MESH, OPTIONS, UPSTREAMS, run, src


def test_a_file_in_python_312_syntax_is_rewritten_though_this_python_is_older(tmp_path):
    # An f-string reusing its own quotes inside a replacement field is 3.12 syntax: the
    # analysis reads it, so the rewrite must not be refused as "would not parse".
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        STREAMS = {"up": "c_up"}

        with DAG("a_down"):
            for name, upstream in STREAMS.items():
                ExternalTaskSensor(task_id=f"wait_{name}_{"x" if name else "y"}", external_dag_id=upstream)
        ''')
    result = run(tmp_path, before)
    assert result.errors == () and result.manual == ()
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    assert change.after == before.replace(
        "from airflow.sensors.external_task import ExternalTaskSensor\n", "\nfrom mesh_http import ExternalTaskSensor\n"
    )
    assert [f.status for f in result.files] == [REWRITTEN]
    apply_changes(tmp_path, result.changes)
    assert run_codemod(analyze(tmp_path, options=OPTIONS), "a").changes == ()


SENSOR = src('''
    from airflow import DAG
    from airflow.sensors.external_task import ExternalTaskSensor

    with DAG("a_down"):
        ExternalTaskSensor(task_id="w", external_dag_id="c_up")
    ''')


def test_a_folder_on_the_path_of_the_tests_only_is_passed_over_for_the_plugins_folder(tmp_path):
    # tox puts a scripts folder on PYTHONPATH for its tests; Airflow never has it on sys.path.
    files = {
        "mesh.yaml": MESH, **UPSTREAMS, "dags/a/down.py": SENSOR,
        "tox.ini": "[testenv]\nsetenv =\n    PYTHONPATH = scripts\n",
        "scripts/job.py": "print('job')\n",
        "plugins/company_ops.py": "X = 1\n",
    }
    write_repo(tmp_path, files)
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert [c.path for c in result.changes] == ["plugins/mesh_http.py", "plugins/mesh_registry.json", "dags/a/down.py"]


def test_a_root_the_dag_files_add_to_sys_path_themselves_is_not_where_the_module_goes(tmp_path):
    # The DAG files put the repository root on sys.path with code: an import at the top of
    # the file runs before that line, so the module goes into the DAGs folder, ignored.
    edit = "import os\nimport sys\n\nsys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))\n\n"
    before = SENSOR.replace("from airflow import DAG\n", edit + "from airflow import DAG\n")
    result = run(tmp_path, before, extra={"tools/report.py": "X = 1\n"})
    assert [c.path for c in result.changes] == ["dags/mesh_http.py", "dags/mesh_registry.json", "dags/.airflowignore", "dags/a/down.py"]


def test_a_branch_carries_the_airflowignore_line_though_git_ignores_that_file(tmp_path):
    # Some repositories list .airflowignore in their .gitignore; the line that keeps the
    # helper module out of the DAG parse must still be committed on the team's branch.
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, "dags/a/down.py": SENSOR, ".gitignore": ".airflowignore\n.mesh-migrate-cache/\n"})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True)
    done = CliRunner().invoke(main, ["codemod", str(tmp_path), "--team", "a", "--branch", "--jobs", "1", "--no-cache"])
    assert done.exit_code == 0, done.output
    shown = subprocess.run(["git", "show", "mesh/a:dags/.airflowignore"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert shown.stdout == "mesh_http.py\n"


def test_a_group_holding_a_group_of_computed_id_is_left_to_the_prefix_match(tmp_path):
    # The waited-on group nests a group whose id is computed at parse time: its tasks' ids
    # are not known, so the registry must not list ids that never exist (the helper then
    # matches the `group.` prefix); a group whose ids are all known is still listed.
    upstream = src('''
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.utils.task_group import TaskGroup
        from vendor_naming import stage_name  # an installed package: not read

        with DAG("c_up"):
            for model in ["m1", "m2"]:
                with TaskGroup(group_id=model):
                    with TaskGroup(group_id=stage_name(model)):
                        BashOperator(task_id="run", bash_command="x")
            with TaskGroup(group_id="known"):
                BashOperator(task_id="ready", bash_command="x")
        ''')
    down = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down"):
            ExternalTaskSensor(task_id="w1", external_dag_id="c_up", external_task_group_id="m1")
            ExternalTaskSensor(task_id="k", external_dag_id="c_up", external_task_group_id="known")
        ''')
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, "dags/c/up.py": upstream, "dags/a/down.py": down})
    registry = build_registry(analyze(tmp_path, options=OPTIONS), "a")
    assert registry["task_groups"] == {"c_up": {"known": ["known.ready"]}}


NO_TEAM_FILES = {
    "dags/x/up.py": "from airflow import DAG\nDAG('x_up')\n",  # a DAG no team rule covers
}
ON_UNOWNED = src('''
    from airflow import DAG
    from airflow.sensors.external_task import ExternalTaskSensor

    with DAG("a_down"):
        ExternalTaskSensor(task_id="w", external_dag_id="x_up")
    ''')
WITH_MONOLITH = MESH.replace("version: 1\n", 'version: 1\nmonolith:\n  instance: {url: "https://old.example", http_conn_id: airflow_monolith, api_version: 2}\n')


def test_a_sensor_on_a_dag_of_no_team_reaches_it_on_the_monolith(tmp_path):
    # The registry sends a DAG of no team to the monolith, so the team's sensor on it must
    # be pointed at the drop-in class like any cross-team sensor.
    write_repo(tmp_path, {"mesh.yaml": WITH_MONOLITH, **UPSTREAMS, **NO_TEAM_FILES, "dags/a/down.py": ON_UNOWNED})
    analysis = analyze(tmp_path, options=OPTIONS)
    result = run_codemod(analysis, "a")
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    assert change.after == ON_UNOWNED.replace("from airflow.sensors.external_task import ExternalTaskSensor\n", "\nfrom mesh_http import ExternalTaskSensor\n")
    assert build_registry(analysis, "a")["dags"]["x_up"] == "monolith"
    assert result.manual == ()


def test_a_sensor_on_a_dag_of_no_team_without_a_monolith_is_manual_work_naming_the_fix(tmp_path):
    result = run(tmp_path, ON_UNOWNED, extra=NO_TEAM_FILES)
    assert [c.path for c in result.changes] == []
    [manual] = result.manual
    assert manual.what == "sensor w on x_up (no team)"
    assert "x_up has no team" in manual.why and "mesh.yaml" in manual.why


def test_a_trigger_of_a_dag_no_file_defines_or_of_an_empty_id_is_manual_work(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator

        with DAG("a_down"):
            TriggerDagRunOperator(task_id="t", trigger_dag_id="defined_elsewhere")
            TriggerDagRunOperator(task_id="e", trigger_dag_id="")
        ''')
    write_repo(tmp_path, {"mesh.yaml": WITH_MONOLITH, **UPSTREAMS, "dags/a/down.py": before})
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert [c.path for c in result.changes] == []
    whys = {m.task_id: m.why for m in result.manual}
    assert "no file defines defined_elsewhere" in whys["t"]
    assert "known only at run time" in whys["e"]


def test_a_subclass_imported_by_a_file_in_python_312_syntax_is_rewritten_where_it_is_defined(tmp_path):
    # The file building the sensor is 3.12 syntax; the import of the repository's subclass
    # must still be followed to the module naming Airflow's class.
    down = src('''
        from airflow import DAG
        from common.ops import WaitSensor

        NAMES = {"up": "c_up"}

        with DAG("a_down"):
            for key, dag_id in NAMES.items():
                WaitSensor(task_id=f"w_{key}_{"x" if key else "y"}", external_dag_id=dag_id)
        ''')
    ops = src('''
        from airflow.sensors.external_task import ExternalTaskSensor


        class WaitSensor(ExternalTaskSensor):
            """Waits with the team's defaults."""
        ''')
    result = run(tmp_path, down, extra={"dags/common/ops.py": ops})
    assert result.manual == ()
    [change] = [c for c in result.changes if c.path == "dags/common/ops.py"]
    assert change.after == ops.replace("from airflow.sensors.external_task import ExternalTaskSensor\n", "from mesh_http import ExternalTaskSensor\n")


def test_a_missing_helper_module_is_written_again_for_a_file_in_python_312_syntax(tmp_path):
    # After the first run only a 3.12-syntax file imports the helper module; once the module
    # is deleted, the next run must see that import and write the module again.
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down"):
            for name in ["c_up"]:
                ExternalTaskSensor(task_id=f"w_{"x" if name else "y"}", external_dag_id=name)
        ''')
    apply_changes(tmp_path, run(tmp_path, before).changes)
    (tmp_path / "dags/mesh_http.py").unlink()
    again = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert [c.path for c in again.changes] == ["dags/mesh_http.py"]


def test_a_relay_subclass_choosing_its_target_at_run_time_is_manual_work_naming_where_it_is_built(tmp_path):
    # A subclass passes an empty trigger_dag_id to Airflow's class and picks the DAG itself
    # when it runs: the reason names the file to change, the subclass's.
    relay = src('''
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator


        class RelayTrigger(TriggerDagRunOperator):
            def __init__(self, prefix, **kwargs):
                super().__init__(trigger_dag_id="", **kwargs)
                self.prefix = prefix
        ''')
    down = src('''
        from airflow import DAG
        from common.relay import RelayTrigger

        with DAG("a_down"):
            RelayTrigger(task_id="next", prefix="c_")
        ''')
    write_repo(tmp_path, {"mesh.yaml": WITH_MONOLITH, **UPSTREAMS, "dags/a/down.py": down, "dags/common/relay.py": relay})
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert result.changes == ()
    [manual] = result.manual
    assert "known only at run time" in manual.why and "dags/common/relay.py" in manual.why
