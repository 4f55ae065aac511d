"""Every codemod as before/after source pairs. Each "after" must parse, pass ruff's isort
check when the "before" did, and be left alone by a second run."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
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
    paths: ["dags/c/**", "dags/common/**"]
    instance: {http_conn_id: airflow_c, api_version: 2}
"""
UPSTREAMS = {
    "dags/a/other.py": "from airflow import DAG\nDAG('a_other')\n",
    "dags/b/up.py": "from airflow import DAG\nfor name in ['b_up', 'b_other']:\n    DAG(name)\n",
    "dags/c/up.py": "from airflow import DAG\nDAG('c_up')\n",
}
OPTIONS = ExtractOptions(jobs=1, use_cache=False)
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def run(tmp_path, source: str, team: str = "a", extra: dict[str, str] | None = None, **kwargs):
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, **(extra or {}), "dags/a/down.py": source})
    return run_codemod(analyze(tmp_path, options=OPTIONS), team, **kwargs)


def rewritten(tmp_path, source: str, path: str = "dags/a/down.py", team: str = "a", extra: dict[str, str] | None = None, **kwargs) -> str:
    """The new text of PATH; the second run must change nothing."""
    result = run(tmp_path, source, team, extra, **kwargs)
    [change] = [c for c in result.changes if c.path == path]
    ast.parse(change.after)
    assert isort_clean(change.after, tmp_path) or not isort_clean(change.before, tmp_path), "the rewrite broke the import order"
    apply_changes(tmp_path, result.changes)
    again = run_codemod(analyze(tmp_path, options=OPTIONS), team, **kwargs)
    assert again.changes == (), "a second run must change nothing"
    return change.after


def isort_clean(text: str, root: Path) -> bool:
    """ruff's isort check, with the repository's import roots as first party."""
    assert RUFF is not None, "ruff comes with the test extras"
    done = subprocess.run(
        [RUFF, "check", "--select", "I", "--isolated", "--config", 'src = ["dags"]', "--config", 'lint.isort.known-first-party = ["mesh_http"]', "--stdin-filename", "dags/a/x.py", "-"],
        input=text, capture_output=True, text=True, cwd=root, check=False,
    )
    return done.returncode == 0


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_a_direct_sensor_imports_the_drop_in_class_as_first_party(tmp_path):
    before = src('''
        from datetime import timedelta

        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up", execution_delta=timedelta(hours=1), mode="reschedule")
            ExternalTaskSensor(task_id="mine", external_dag_id="a_other")
    ''')
    after = src('''
        from datetime import timedelta

        from airflow import DAG

        from mesh_http import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up", execution_delta=timedelta(hours=1), mode="reschedule")
            ExternalTaskSensor(task_id="mine", external_dag_id="a_other")
    ''')
    assert rewritten(tmp_path, before) == after


def test_an_alias_is_kept_and_the_other_names_of_the_line_stay(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor as Wait

        from a_lib import helper

        with DAG("a_down") as dag:
            Wait(task_id="wait", external_dag_id="c_up")
            ExternalTaskMarker(task_id="clear", external_dag_id="a_other")
    ''')
    after = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker

        from a_lib import helper
        from mesh_http import ExternalTaskSensor as Wait

        with DAG("a_down") as dag:
            Wait(task_id="wait", external_dag_id="c_up")
            ExternalTaskMarker(task_id="clear", external_dag_id="a_other")
    ''')
    assert rewritten(tmp_path, before, extra={"dags/a_lib.py": "def helper(): pass\n"}) == after


def test_an_attribute_reference_goes_through_the_helper_module(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.operators import trigger_dagrun
        from airflow.sensors import external_task

        with DAG("a_down") as dag:
            external_task.ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
            trigger_dagrun.TriggerDagRunOperator(task_id="kick", trigger_dag_id="c_up", wait_for_completion=True)
    ''')
    after = src('''
        from airflow import DAG

        import mesh_http

        with DAG("a_down") as dag:
            mesh_http.ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
            mesh_http.TriggerDagRunOperator(task_id="kick", trigger_dag_id="c_up", wait_for_completion=True)
    ''')
    assert rewritten(tmp_path, before) == after


def test_a_providers_import_with_a_fallback_becomes_one_import(tmp_path):
    before = src('''
        """Waits on b."""
        from airflow import DAG

        try:
            from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
        except ImportError:  # Airflow 2 without the standard provider
            from airflow.sensors.external_task import ExternalTaskSensor

        DAG_ID = "a_down"

        with DAG(DAG_ID) as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    after = src('''
        """Waits on b."""
        from airflow import DAG

        from mesh_http import ExternalTaskSensor

        DAG_ID = "a_down"

        with DAG(DAG_ID) as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    assert rewritten(tmp_path, before) == after


def test_a_fallback_import_between_two_third_party_imports_leaves_them_one_block(tmp_path):
    """isort keeps a try of imports apart with blank lines; once it is gone, its neighbours
    of one section are one block again."""
    before = src('''
        from airflow import DAG

        try:
            from airflow.operators.sensors import ExternalTaskSensor
        except ImportError:
            from airflow.sensors.external_task import ExternalTaskSensor
        from airflow.providers.http.hooks.http import HttpHook

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    after = src('''
        from airflow import DAG
        from airflow.providers.http.hooks.http import HttpHook

        from mesh_http import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    assert rewritten(tmp_path, before) == after


def test_the_blank_line_between_import_blocks_survives_a_removed_import(tmp_path):
    before = src('''
        from datetime import datetime

        import airflow.sensors.external_task
        from airflow import DAG

        with DAG("a_down", start_date=datetime(2024, 1, 1)) as dag:
            airflow.sensors.external_task.ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    after = src('''
        from datetime import datetime

        from airflow import DAG

        import mesh_http

        with DAG("a_down", start_date=datetime(2024, 1, 1)) as dag:
            mesh_http.ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    assert rewritten(tmp_path, before) == after


SHARED_HELPER = src('''
    """Sensors every team uses."""
    from airflow.sensors.external_task import ExternalTaskSensor


    def wait_for(dag_id, **kwargs):
        return ExternalTaskSensor(task_id=f"wait_for_{dag_id}", external_dag_id=dag_id, mode="reschedule", **kwargs)


    class LateSensor(ExternalTaskSensor):
        def __init__(self, **kwargs):
            kwargs.setdefault("timeout", 8 * 60 * 60)
            super().__init__(**kwargs)
''')
SHARED_HELPER_AFTER = SHARED_HELPER.replace("from airflow.sensors.external_task import", "from mesh_http import")


@pytest.mark.parametrize("call", ['wait_for("b_up")', 'LateSensor(task_id="late", external_dag_id="b_up")'])
def test_a_shared_helper_or_subclass_is_rewritten_once_where_it_builds_the_sensor(tmp_path, call):
    dag = f'from airflow import DAG\nfrom common.sensors import LateSensor, wait_for\n\nwith DAG("a_down") as dag:\n    {call}\n'
    result = run(tmp_path, dag, extra={"dags/common/__init__.py": "", "dags/common/sensors.py": SHARED_HELPER})
    assert "dags/a/down.py" not in [c.path for c in result.changes], "the caller stays as it is"
    assert rewritten(tmp_path, dag, path="dags/common/sensors.py") == SHARED_HELPER_AFTER
    [rewrite] = [r for c in result.changes for r in c.rewrites]
    assert (rewrite.span.path, rewrite.kind) == ("dags/a/down.py", "sensor")
    assert "the reference in dags/common/sensors.py" in rewrite.description


def test_a_functools_partial_is_rewritten_where_it_is_made(tmp_path):
    before = src('''
        from functools import partial

        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        reschedule_sensor = partial(ExternalTaskSensor, mode="reschedule", timeout=3600)

        with DAG("a_down") as dag:
            reschedule_sensor(task_id="wait", external_dag_id="b_up")
            reschedule_sensor(task_id="mine", external_dag_id="a_other")
    ''')
    after = src('''
        from functools import partial

        from airflow import DAG

        from mesh_http import ExternalTaskSensor

        reschedule_sensor = partial(ExternalTaskSensor, mode="reschedule", timeout=3600)

        with DAG("a_down") as dag:
            reschedule_sensor(task_id="wait", external_dag_id="b_up")
            reschedule_sensor(task_id="mine", external_dag_id="a_other")
    ''')
    assert rewritten(tmp_path, before) == after


def test_a_loop_over_dags_of_several_teams_is_rewritten_once(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            for upstream in ["a_other", "b_up", "c_up"]:
                ExternalTaskSensor(task_id=f"wait_{upstream}", external_dag_id=upstream)
    ''')
    result = run(tmp_path, before)
    assert sorted(r.other_team for r in result.rewrites) == ["b", "c"] and result.manual == ()
    assert rewritten(tmp_path, before).splitlines()[1:3] == ["", "from mesh_http import ExternalTaskSensor"]


def test_a_mapped_sensor_is_rewritten_through_its_class(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor.partial(task_id="wait", mode="reschedule").expand(external_dag_id=["b_up", "c_up"])
    ''')
    after = src('''
        from airflow import DAG

        from mesh_http import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor.partial(task_id="wait", mode="reschedule").expand(external_dag_id=["b_up", "c_up"])
    ''')
    assert rewritten(tmp_path, before) == after


PRODUCER = src('''
    from airflow import DAG, Dataset
    from airflow.operators.bash import BashOperator

    with DAG("c_prod") as dag:
        BashOperator(task_id="export", bash_command="x", outlets=[Dataset("s3://x")])
        BashOperator.partial(
            task_id="mapped",
            outlets=[Dataset("s3://y")],
        ).expand(bash_command=["a", "b"])
''')
CONSUMER = 'from airflow import DAG, Dataset\nDAG("a_down", schedule=[Dataset("s3://x"), Dataset("s3://y")])\n'


def test_the_producer_of_a_cross_team_dataset_posts_its_events(tmp_path):
    after = src('''
        from airflow import DAG, Dataset
        from airflow.operators.bash import BashOperator

        from mesh_http import publish_dataset_events

        with DAG("c_prod") as dag:
            BashOperator(task_id="export", bash_command="x", outlets=[Dataset("s3://x")], post_execute=publish_dataset_events())
            BashOperator.partial(
                task_id="mapped",
                outlets=[Dataset("s3://y")],
                post_execute=publish_dataset_events(),
            ).expand(bash_command=["a", "b"])
    ''')
    assert rewritten(tmp_path, CONSUMER, path="dags/c/producer.py", team="c", extra={"dags/c/producer.py": PRODUCER}) == after
    consumer = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert consumer.changes == () and consumer.manual == (), "the consumer keeps its schedule"


def test_a_task_function_gets_the_hook_in_its_decorator(tmp_path):
    producer = src('''
        from airflow import Dataset
        from airflow.decorators import dag, task


        @dag(dag_id="c_prod")
        def pipeline():
            @task(outlets=[Dataset("s3://x")])
            def export():
                return 1

            export()


        pipeline()
    ''')
    after = src('''
        from airflow import Dataset
        from airflow.decorators import dag, task

        from mesh_http import publish_dataset_events


        @dag(dag_id="c_prod")
        def pipeline():
            @task(outlets=[Dataset("s3://x")], post_execute=publish_dataset_events())
            def export():
                return 1

            export()


        pipeline()
    ''')
    consumer = 'from airflow import DAG, Dataset\nDAG("a_down", schedule=[Dataset("s3://x")])\n'
    assert rewritten(tmp_path, consumer, path="dags/c/producer.py", team="c", extra={"dags/c/producer.py": producer}) == after


def test_a_producer_with_its_own_post_execute_is_refused_with_the_reason(tmp_path):
    producer = PRODUCER.replace('outlets=[Dataset("s3://x")])', 'outlets=[Dataset("s3://x")], post_execute=audit)').replace("with DAG", "audit = print\n\nwith DAG")
    result = run(tmp_path, CONSUMER, team="c", extra={"dags/c/producer.py": producer})
    [manual] = [m for m in result.manual if "s3" in m.why or "post_execute" in m.why]
    assert manual.what == "dataset on c_prod (c)" or "post_execute=audit" in manual.why
    assert "the task already has post_execute=audit" in manual.why
    [change] = [c for c in result.changes if c.path == "dags/c/producer.py"]
    assert "post_execute=audit)" in change.after and change.after.count("publish_dataset_events()") == 1


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
    assert removed == src('''
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("a_down") as dag:
            clear = EmptyOperator(task_id="clear")
    ''')


def test_a_star_import_is_refused_naming_what_to_change(tmp_path):
    before = 'from airflow import DAG\nfrom airflow.sensors.external_task import *\nfrom airflow.sensors.external_task import ExternalTaskSensor\n\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up")\n'
    result = run(tmp_path, before)
    assert [c.path for c in result.changes if c.path == "dags/a/down.py"] == []
    [manual] = result.manual
    assert manual.why == "dags/a/down.py: `from airflow.sensors.external_task import *` hides which class is used: import it by name"


def test_a_class_without_drop_in_is_manual_work_naming_the_rule_to_add(tmp_path):
    before = 'from airflow import DAG\nfrom astronomer.providers.core.sensors.external_task import ExternalTaskSensorAsync\n\nwith DAG("a_down"):\n    ExternalTaskSensorAsync(task_id="w", external_dag_id="c_up")\n'
    result = run(tmp_path, before)
    assert result.changes == ()
    [manual] = result.manual
    assert "ExternalTaskSensorAsync has no drop-in class in mesh_http: add it to rewrites.classes" in manual.why


def test_a_class_reached_outside_the_repository_is_manual_work(tmp_path):
    """A sensor class of an installed package: no file of the repository names Airflow's class."""
    rules = "version: 1\ndependencies:\n  - name: Corp\n    kind: sensor\n    callables: [corp_lib.CorpSensor]\n    dag_argument: {keyword: external_dag_id}\n"
    mesh = MESH.replace("version: 1\n", "version: 1\nrules: [rules.yaml]\n")
    write_repo(tmp_path, {"rules.yaml": rules})
    before = 'from airflow import DAG\nfrom corp_lib import CorpSensor\n\nwith DAG("a_down"):\n    CorpSensor(task_id="w", external_dag_id="c_up")\n'
    write_repo(tmp_path, {"mesh.yaml": mesh, **UPSTREAMS, "dags/a/down.py": before})
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    [manual] = result.manual
    assert manual.why.startswith("corp_lib.CorpSensor has no drop-in class in mesh_http")


def test_the_helper_module_goes_to_an_import_root_outside_the_dags_folder(tmp_path):
    mesh = MESH.replace("version: 1\n", "version: 1\npython_paths: [dags, lib]\n")
    (tmp_path / "lib").mkdir()
    before = 'from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\n\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up")\n'
    write_repo(tmp_path, {"mesh.yaml": mesh, **UPSTREAMS, "dags/a/down.py": before})
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert [c.path for c in result.changes] == ["lib/mesh_http.py", "lib/mesh_registry.json", "dags/a/down.py"]


def test_in_a_dags_folder_the_helper_module_is_listed_in_airflowignore(tmp_path):
    before = 'from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\n\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up")\n'
    result = run(tmp_path, before)
    assert [c.path for c in result.changes] == ["dags/mesh_http.py", "dags/mesh_registry.json", "dags/.airflowignore", "dags/a/down.py"]
    [ignore] = [c for c in result.changes if c.path == "dags/.airflowignore"]
    assert (ignore.before, ignore.after) == ("", "mesh_http.py\n")
    (tmp_path / "dags/.airflowignore").write_text("sandbox/\n.*_deprecated\\.py")  # no final line break
    result = run(tmp_path, before)
    [ignore] = [c for c in result.changes if c.path == "dags/.airflowignore"]
    assert ignore.after == "sandbox/\n.*_deprecated\\.py\nmesh_http.py\n"
    apply_changes(tmp_path, result.changes)
    assert run_codemod(analyze(tmp_path, options=OPTIONS), "a").changes == ()


def test_the_helper_module_is_written_once_and_a_custom_one_is_kept(tmp_path):
    before = 'from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nwith DAG("a_down"):\n    ExternalTaskSensor(task_id="w", external_dag_id="c_up")\n'
    result = run(tmp_path, before)
    [helper] = [c for c in result.changes if c.path == "dags/mesh_http.py"]
    assert helper.before == "" and "class ExternalTaskSensor" in helper.after
    ast.parse(helper.after)
    (tmp_path / "dags/mesh_http.py").write_text("# ours\n")
    result = run(tmp_path, before)
    assert "dags/mesh_http.py" not in [c.path for c in result.changes]


def test_a_mapped_marker_is_commented_and_its_removal_refused_on_the_whole_call(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker

        with DAG("a_down") as dag:
            ExternalTaskMarker.partial(task_id="clear").expand(external_dag_id=["c_up"])
    ''')
    assert rewritten(tmp_path, before).splitlines()[4].startswith("    # mesh-migrate: ExternalTaskMarker on c_up (team c)")
    (tmp_path / "dags/a/down.py").write_text(before)
    result = run(tmp_path, before, remove_markers=True)
    assert result.changes == ()
    [manual] = result.manual
    assert manual.why.startswith("a mapped ExternalTaskMarker (.partial().expand()): replace it by hand")


def test_an_import_after_code_is_replaced_where_it_stands(tmp_path):
    """An import that follows a sys.path edit may need it: the new one takes its place."""
    before = src('''
        import sys

        sys.path.insert(0, "/opt/airflow/shared")
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="b_up")
    ''')
    result = run(tmp_path, before)
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    assert change.after == before.replace("from airflow.sensors.external_task import", "from mesh_http import")


def test_a_subclass_given_to_a_helper_by_its_caller_is_rewritten_where_it_is_defined(tmp_path):
    helper = "def build(cls, dag_id):\n    return cls(task_id=f'wait_{dag_id}', external_dag_id=dag_id)\n"
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        from lib.build import build


        class Late(ExternalTaskSensor):
            pass


        with DAG("a_down") as dag:
            build(Late, "b_up")
    ''')
    extra = {"dags/lib/__init__.py": "", "dags/lib/build.py": helper}
    after = rewritten(tmp_path, before, extra=extra)
    assert after == before.replace("from airflow.sensors.external_task import ExternalTaskSensor\n\nfrom lib.build import build\n", "\nfrom lib.build import build\nfrom mesh_http import ExternalTaskSensor\n")


def test_the_report_names_a_call_of_a_loop_once_with_its_count(tmp_path):
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down") as dag:
            for target in ["b_up", "b_up_2"]:
                ExternalTaskSensor(task_id=f"wait_{target}", external_dag_id="b_up")
    ''')
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, "dags/a/down.py": before})
    output = CliRunner().invoke(main, ["codemod", str(tmp_path), "--team", "a", "--diff", "--no-cache"]).output
    [line] = [l for l in output.splitlines() if l.startswith("  dags/a/down.py:6:")]
    assert line.endswith("(x2)")
