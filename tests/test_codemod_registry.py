"""The registry each team's branch gets, its `monolith` setting, and the rule pack's rewrites
section checked when the pack loads."""

from __future__ import annotations

import json

import pytest

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.registry import build_registry
from mesh_migrate.codemod.runner import run_codemod
from mesh_migrate.config import load_config
from mesh_migrate.extract.runner import ExtractOptions
from mesh_migrate.rulepack import load_rule_pack
from mesh_migrate.yamlio import ConfigError

from .conftest import write_repo

OPTIONS = ExtractOptions(jobs=1, use_cache=False)
MESH = """
version: 1
monolith:
  instance: {url: "https://airflow.example", http_conn_id: airflow_monolith, api_version: 2}
  teams: [c]
teams:
  a:
    paths: ["dags/a/**"]
    instance: {url: "https://a.example", http_conn_id: airflow_a, api_version: 2}
  b:
    paths: ["dags/b/**"]
    instance: {url: "https://b.example", http_conn_id: airflow_b, api_version: 3}
  c:
    paths: ["dags/c/**"]
  d:
    paths: ["dags/d/**"]
"""
FILES = {
    "mesh.yaml": MESH,
    "dags/a/down.py": """
        from airflow import DAG, Dataset
        from airflow.operators.bash import BashOperator
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("a_down", schedule=[Dataset("s3://c/out")]) as dag:
            ExternalTaskSensor(task_id="w", external_dag_id="b_up", external_task_group_id="load")
            ExternalTaskSensor(task_id="r", external_dag_id="b_up", external_task_group_id="report")
            BashOperator(task_id="p", bash_command="x", outlets=[Dataset("s3://a/out")])
    """,
    "dags/b/up.py": """
        from airflow import DAG, Dataset
        from airflow.operators.bash import BashOperator
        from airflow.utils.task_group import TaskGroup

        with DAG("b_up", schedule=[Dataset("s3://a/out")]) as dag:
            with TaskGroup("load"):
                BashOperator(task_id="extract", bash_command="x")
                with TaskGroup("rows", prefix_group_id=False):
                    BashOperator(task_id="rows", bash_command="x")
            with TaskGroup("report", prefix_group_id=False):
                BashOperator(task_id="send", bash_command="x")
    """,
    "dags/c/old.py": """
        from airflow import DAG, Dataset
        from airflow.operators.bash import BashOperator

        with DAG("c_old", schedule=[Dataset("s3://a/out")]) as dag:
            BashOperator(task_id="p", bash_command="x", outlets=[Dataset("s3://c/out")])
    """,
    "dags/d/also_old.py": "from airflow import DAG\nDAG('d_other')\n",
}


@pytest.fixture
def analysis(tmp_path):
    write_repo(tmp_path, FILES)
    return analyze(tmp_path, options=OPTIONS)


def test_the_registry_maps_every_other_dag_to_the_instance_that_runs_it_now(analysis):
    assert build_registry(analysis, "a") == {
        "version": 1,
        "team": "a",
        "instances": {
            "b": {"conn_id": "airflow_b", "api_version": 3, "url": "https://b.example"},
            "d": {"conn_id": "airflow_d", "api_version": 2, "url": None},
            "monolith": {"conn_id": "airflow_monolith", "api_version": 2, "url": "https://airflow.example"},
        },
        "dags": {"b_up": "b", "c_old": "monolith", "d_other": "d"},
        # Airflow's ids: a group made with prefix_group_id=False does not prefix its tasks.
        "task_groups": {"b_up": {"load": ["load.extract", "rows"], "report": ["send"]}},
        "datasets": {"s3://a/out": ["b", "monolith"]},
    }


def test_a_team_still_on_the_monolith_reaches_the_others_and_not_itself(analysis):
    registry = build_registry(analysis, "c")
    assert registry["dags"] == {"a_down": "a", "b_up": "b", "d_other": "d"}
    assert registry["datasets"] == {"s3://c/out": ["a"]}


def test_the_codemod_writes_the_teams_registry_beside_the_helper_module(analysis, tmp_path):
    result = run_codemod(analysis, "a")
    [registry] = [c for c in result.changes if c.path == "dags/mesh_registry.json"]
    assert json.loads(registry.after) == build_registry(analysis, "a")


def test_monolith_problems_are_reported_with_their_lines(tmp_path):
    write_repo(tmp_path, {"mesh.yaml": """
        version: 1
        monolith:
          instance: {url: 3, api_version: 4}
          teams: [a, nobody]
          wave: 1
        teams:
          a: {paths: ["dags/a/**"]}
    """})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "mesh.yaml:5: unknown key 'wave' in monolith; expected one of: instance, teams",
        "mesh.yaml:3: api_version of the monolith must be 2 or 3",
        "mesh.yaml:3: url of the monolith must be a string",
        "mesh.yaml:4: monolith.teams names unknown team 'nobody'",
    ]


def test_a_broken_rewrites_override_fails_when_the_rule_pack_loads_with_every_problem(tmp_path):
    (tmp_path / "rules.yaml").write_text(
        "version: 1\n"
        "rewrites:\n"
        "  helper_module: mesh-http\n"
        "  helper_source: missing.py\n"
        "  classes:\n"
        "    ExternalTaskSensor: {kind: sensor, replaces: [ExternalTaskSensor]}\n"
        "  dataset_hook: {keyword: post_execute}\n"
        "  marker: {replacement: EmptyOperator, comment: 'on ${dag_id} of ${owner}'}\n"
        "  sensor: {}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_rule_pack([("rules.yaml", tmp_path / "rules.yaml")])
    assert [str(p) for p in caught.value.problems] == [
        "rules.yaml:9: rewrites: unknown key 'sensor'; expected one of: classes, dataset_hook, helper_module, helper_source, marker, registry",
        "rules.yaml:3: rewrites: helper_module must be a dotted module name",
        "rules.yaml:4: rewrites: helper_source 'missing.py' is not a file beside rules.yaml",
        "rules.yaml:6: rewrites: classes.ExternalTaskSensor.replaces must list qualified class names",
        "rules.yaml:7: rewrites: dataset_hook is missing 'function'",
        "rules.yaml:7: rewrites: dataset_hook.function must be a Python name",
        "rules.yaml:8: rewrites: marker.replacement must be a qualified class name (module.Class)",
        "rules.yaml:8: rewrites: marker.comment has unknown placeholder ${owner}; it may use ${dag_id} and ${team}",
    ]


def test_an_override_of_part_of_the_rewrites_loads_and_is_used(tmp_path):
    (tmp_path / "rules.yaml").write_text("version: 1\nrewrites:\n  registry: routes.json\n")
    rules = load_rule_pack([("rules.yaml", tmp_path / "rules.yaml")])
    assert rules.rewrites is not None and rules.rewrites.registry == "routes.json"
    assert rules.rewrites.helper_module == "mesh_http"


def _defined_names(source: str) -> set[str]:
    """Names a module binds at its top level, also inside `try:` / `if` blocks."""
    import ast

    names: set[str] = set()
    blocks = [ast.parse(source).body]
    while blocks:
        for node in blocks.pop():
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Try, ast.If)):
                blocks += [node.body, node.orelse, *(h.body for h in getattr(node, "handlers", []))]
    return names


@pytest.mark.xfail(reason="the routing classes of rules/mesh_http.py are written separately; remove this mark once they are there", strict=False)
def test_the_shipped_helper_module_defines_every_name_the_codemod_imports():
    from mesh_migrate.rulepack import shipped_folder

    rules = load_rule_pack().rewrites
    assert rules is not None
    names = _defined_names(shipped_folder().joinpath(rules.helper_source).read_text(encoding="utf-8"))
    assert {c.name for c in rules.classes} | {rules.hook_function} <= names
