"""Dependency kinds declared in the rule pack: a repository's own kinds, overrides, and every
problem of the rule files reported at once when the pack loads."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
from mesh_migrate.codemod.runner import apply_changes, run_codemod
from mesh_migrate.extract.runner import ExtractOptions
from mesh_migrate.facts import DependencyFact, RepoFacts, SourceSpan
from mesh_migrate.runtime import RuntimeDag, RuntimeEdge, RuntimeFacts, reconcile
from mesh_migrate.rulepack import load_rule_pack, shipped_folder
from mesh_migrate.yamlio import ConfigError, ConfigProblem

from .conftest import write_repo

MESH_YAML = """
    version: 1
    rules: [mesh-rules.yaml]
    teams:
      alpha:
        paths: ["dags/alpha/**"]
      beta:
        paths: ["dags/beta/**"]
"""

# A company sensor of its own kind: a label, a severity of its own, the rest from kind_defaults.
ACME_RULES = """
    version: 1
    kinds:
      acme_sensor:
        label: Acme sensor
        plural: Acme sensors
        manual: "${operator} polls the monolith's database: replace it by an HttpSensor"
        check: {severity: warning}
    dependencies:
      - name: AcmeDagSensor
        kind: acme_sensor
        callables: [acme.sensors.AcmeDagSensor]
        dag_argument: {keyword: upstream_dag}
        direction: upstream
"""

DAGS = {
    "dags/beta/prices.py": """
        from airflow import DAG
        with DAG("beta_prices") as dag:
            pass
    """,
    "dags/alpha/report.py": """
        from airflow import DAG
        from acme.sensors import AcmeDagSensor
        with DAG("alpha_report") as dag:
            AcmeDagSensor(task_id="wait_prices", upstream_dag="beta_prices")
    """,
}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def repo_with(tmp_path, rules: str, extra: dict[str, str] | None = None):
    files = {"mesh.yaml": MESH_YAML, "mesh-rules.yaml": rules, **DAGS, **(extra or {})}
    return write_repo(tmp_path, files)


def test_a_kind_of_the_repository_shows_with_its_label_in_plans_and_check(tmp_path):
    repo = repo_with(tmp_path / "repo", ACME_RULES)
    out = tmp_path / "out"
    analyzed = run("analyze", repo, "--no-cache", "--out", out)
    assert analyzed.exit_code == 0, analyzed.output
    assert "dependencies: Acme sensors" in analyzed.output  # the console
    plan = (out / "plans" / "alpha.md").read_text()
    row = next(line for line in plan.splitlines() if "wait_prices" in line and line.startswith("| Acme sensor |"))
    assert "manual: acme.sensors.AcmeDagSensor polls the monolith's database: replace it by an HttpSensor" in row
    assert "| Acme sensor wait_prices on beta_prices (beta) |" in plan  # manual work
    assert "(1 Acme sensor)" in (out / "summary.md").read_text()
    assert "Acme sensor" in (out / "site" / "teams" / "alpha.html").read_text()

    checked = run("check", repo, "--no-cache", "--format", "json")
    assert checked.exit_code == 1, checked.output
    [finding] = json.loads(checked.output)["findings"]
    assert (finding["code"], finding["severity"], finding["file"], finding["line"]) == ("MM105", "warning", "dags/alpha/report.py", 4)
    assert finding["message"].startswith("Acme sensor 'wait_prices' (acme.sensors.AcmeDagSensor) in DAG 'alpha_report' (alpha) depends on DAG 'beta_prices' of team beta")


def test_a_rule_file_overrides_single_fields_of_a_shipped_kind(tmp_path):
    rules = ACME_RULES.replace("    kinds:\n", "    kinds:\n      sensor: {label: upstream wait, check: {severity: warning}}\n")
    repo = repo_with(tmp_path, rules, {
        "dags/alpha/wait.py": """
            from airflow import DAG
            from airflow.sensors.external_task import ExternalTaskSensor
            with DAG("alpha_wait") as dag:
                ExternalTaskSensor(task_id="wait_beta", external_dag_id="beta_prices")
        """,
    })
    checked = run("check", repo, "--no-cache", "--format", "json")
    by_code = {f["code"]: f for f in json.loads(checked.output)["findings"]}
    sensor = by_code["MM101"]  # the code and the rewrite stay the shipped ones
    assert sensor["severity"] == "warning" and sensor["message"].startswith("upstream wait 'wait_beta' in DAG 'alpha_wait'")
    assert "mesh-migrate codemod" in sensor["message"] and "--diff rewrites it" in sensor["message"]


BROKEN_RULES = """\
version: 1
kinds:
  acme_sensor:
    migrated: sometimes
dependencies:
  - name: AcmeDagSensor
    kind: acme_sensr
    callables: [acme.sensors.AcmeDagSensor]
    dag_argument: {keyword: upstream_dag}
rewrites:
  classes:
    ExternalTaskSensor: {kind: sensr, replaces: [airflow.sensors.external_task.ExternalTaskSensor]}
"""


def rule_file_problems(tmp_path, text: str, name: str = "rules.yaml") -> list[ConfigProblem]:
    """Every problem loading the shipped pack with TEXT as the repository's rule file NAME."""
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as error:
        load_rule_pack([(name, tmp_path / name)])
    return error.value.problems


def test_a_broken_rule_file_reports_every_problem_with_its_line(tmp_path):
    found = rule_file_problems(tmp_path, BROKEN_RULES, "mesh-rules.yaml")
    problems = [(p.path, p.line) for p in found]
    assert problems == [("mesh-rules.yaml", 4), ("mesh-rules.yaml", 6), ("mesh-rules.yaml", 12)]
    messages = [p.message for p in found]
    assert "migrated must be true or false" in messages[0]
    assert "kind 'acme_sensr' is declared in no rule file's kinds" in messages[1]
    assert "rewrites: classes.ExternalTaskSensor.kind 'sensr' is declared in no rule file's kinds" in messages[2]


@pytest.mark.parametrize("command", ["analyze", "check"])
def test_analyze_and_check_stop_on_a_broken_rule_file_with_exit_2(tmp_path, command):
    repo = repo_with(tmp_path, BROKEN_RULES)
    result = run(command, repo, "--no-cache")
    assert result.exit_code == 2
    assert "3 configuration problem(s)" in result.output
    for line in (4, 6, 12):
        assert f"mesh-rules.yaml:{line}: " in result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output


@pytest.mark.parametrize(("fields", "complaint"), [
    ("{manual: 'replace ${callable} by hand'}", "names ${callable}; it may name only ${operator}"),
    ("{check: {code: MM201}}", "check.code must be one of MM101"),
    ("{rewrite: webhook, becomes: a webhook}", "rewrite 'webhook' is not one of the rewrites (classes, dataset_hook, marker)"),
    ("{migrated: true}", "a migrated kind needs becomes"),
    ("{held_by: schedule, colour: red}", "unknown field 'colour'"),
])
def test_each_field_of_a_kind_is_checked(tmp_path, fields, complaint):
    [problem] = rule_file_problems(tmp_path, f"version: 1\nkinds:\n  acme_sensor: {fields}\n")
    assert problem.path == "rules.yaml" and problem.line == 3 and complaint in problem.message


def test_a_kind_recorded_by_airflow_is_reconciled_with_the_database(tmp_path):
    """A company subclass of ExternalTaskSensor is recorded by Airflow as a sensor."""
    (tmp_path / "rules.yaml").write_text("version: 1\nkinds:\n  acme_sensor: {recorded_as: sensor}\n  acme_marker: {}\n")
    rules = load_rule_pack([("rules.yaml", tmp_path / "rules.yaml")])
    span = SourceSpan("dags/down.py", 4)
    deps = (DependencyFact("acme_sensor", "up", "down", "down", "wait", span), DependencyFact("acme_marker", "down", "up", "down", "clear", span))
    facts = RepoFacts(root=".", files=("dags/down.py",), dags=(), dependencies=deps)
    now = datetime(2026, 1, 31, tzinfo=timezone.utc)
    dags = tuple(RuntimeDag(dag_id, False, True, f"/dags/{dag_id}.py", (), now, 1, now) for dag_id in ("up", "down"))
    runtime = RuntimeFacts("sqlite:///x.db", "5f2621c13b39", "2.10.3", now, now, dags, (RuntimeEdge("sensor", "up", "down", "down", "wait"),), 1, 1)
    result = reconcile(facts, runtime, rules)
    assert result.statuses == ("seen", None) and result.runtime_only == ()


def test_a_kind_of_the_repository_with_a_rewrite_is_rewritten_by_the_codemod(tmp_path):
    """A company sensor with a drop-in class of the company's own helper module: the
    reference is rewritten through `classes`, as Airflow's sensor is."""
    rules = """
        version: 1
        kinds:
          acme_wait:
            label: Acme wait
            rewrite: classes
            becomes: "AcmeDagSensor of acme_http: polls the upstream instance's REST API"
        dependencies:
          - name: AcmeDagSensor
            kind: acme_wait
            callables: [acme.sensors.AcmeDagSensor]
            dag_argument: {keyword: upstream_dag}
            direction: upstream
        rewrites:
          helper_module: acme_http
          helper_source: acme_http.py
          classes:
            AcmeDagSensor: {kind: acme_wait, replaces: [acme.sensors.AcmeDagSensor]}
    """
    helper = "class AcmeDagSensor:\n    \"\"\"Routes to the instance that runs the DAG.\"\"\"\n"
    repo = repo_with(tmp_path, rules, {"acme_http.py": helper})
    analysis = analyze(repo, options=ExtractOptions(jobs=1, use_cache=False))
    [planned] = next(p for p in analysis.plans if p.team == "alpha").outbound
    assert planned.automatic and planned.kind.label == "Acme wait"
    assert planned.rewrite == "AcmeDagSensor of acme_http: polls the upstream instance's REST API"
    result = run_codemod(analysis, "alpha")
    [change] = [c for c in result.changes if c.path == "dags/alpha/report.py"]
    assert change.after == textwrap.dedent("""\
        from airflow import DAG

        from acme_http import AcmeDagSensor

        with DAG("alpha_report") as dag:
            AcmeDagSensor(task_id="wait_prices", upstream_dag="beta_prices")
    """)
    assert result.manual == ()
    [module] = [c for c in result.changes if c.path.endswith("acme_http.py") and not c.before]
    assert module.after == helper
    apply_changes(repo, result.changes)
    assert run_codemod(analyze(repo, options=ExtractOptions(jobs=1, use_cache=False)), "alpha").changes == ()


def test_a_rule_file_replacing_one_whole_rewrite_keeps_the_shipped_helper(tmp_path):
    """The helper's source is read beside the file that names it, not beside the last file
    with a `rewrites` section."""
    rules = """
        version: 1
        rewrites:
          classes:
            TriggerDagRunOperator:
              kind: trigger
              replaces: [airflow.operators.trigger_dagrun.TriggerDagRunOperator]
    """
    repo = write_repo(tmp_path, {
        "mesh.yaml": MESH_YAML,
        "mesh-rules.yaml": rules,
        "dags/beta/prices.py": DAGS["dags/beta/prices.py"],
        "dags/alpha/kick.py": """
            from airflow import DAG
            from airflow.operators.trigger_dagrun import TriggerDagRunOperator
            with DAG("alpha_kick") as dag:
                TriggerDagRunOperator(task_id="kick", trigger_dag_id="beta_prices", wait_for_completion=True)
        """,
    })
    result = run_codemod(analyze(repo, options=ExtractOptions(jobs=1, use_cache=False)), "alpha")
    [helper] = [c for c in result.changes if c.path.endswith("mesh_http.py")]
    assert helper.after == (shipped_folder() / "mesh_http.py").read_text(encoding="utf-8")
    [change] = [c for c in result.changes if c.path == "dags/alpha/kick.py"]
    assert "from mesh_http import TriggerDagRunOperator" in change.after


def test_a_drop_in_class_of_a_kind_the_codemod_does_not_rewrite_through_classes_is_refused(tmp_path):
    problems = rule_file_problems(
        tmp_path,
        "version: 1\n"
        "rewrites:\n"
        "  classes:\n"
        "    ExternalTaskMarker:\n"
        "      kind: marker\n"
        "      replaces: [airflow.sensors.external_task.ExternalTaskMarker]\n",
    )
    assert [str(p) for p in problems] == [
        "rules.yaml:5: rewrites: classes.ExternalTaskMarker.kind 'marker' has rewrite marker, not classes: the codemod would not rewrite its calls",
    ]


def test_an_override_that_breaks_a_shipped_kind_is_reported_in_the_overriding_file(tmp_path):
    problems = rule_file_problems(tmp_path, "version: 1\nkinds:\n  http_sensor:\n    rewrite: classes\n  trigger:\n    becomes: null\n    manual: null\n")
    assert [(p.path, p.line) for p in problems] == [("rules.yaml", 4), ("rules.yaml", 5)]
    assert "a migrated kind already crosses instances; its rewrite must be null" in problems[0].message
    assert "give a rewrite and what it becomes, or manual" in problems[1].message
