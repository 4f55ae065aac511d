"""Every finding code of `mesh-migrate check`, on small repositories and on the skyflow fixture."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mesh_migrate.check import CODES, run_check
from mesh_migrate.check.findings import collect

from .checkrepo import check_repo, codes, make_repo, sensor_dag


def test_the_base_repository_is_clean(tmp_path):
    result = check_repo(make_repo(tmp_path))
    assert result.findings == () and result.clean


def test_mm101_cross_team_sensor(tmp_path):
    make_repo(tmp_path, {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices", "alpha_raw")})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.file, finding.line, finding.team) == ("MM101", "dags/alpha/wait.py", 4, "alpha")
    assert finding.title == "cross-team sensor" and finding.severity == "error"
    assert "'beta_prices' of team beta" in finding.message
    assert "mesh-migrate codemod . --team alpha --diff" in finding.message


def test_mm102_cross_team_trigger(tmp_path):
    make_repo(tmp_path, {"dags/alpha/kick.py": """
        from airflow import DAG
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator
        with DAG("alpha_kick") as dag:
            TriggerDagRunOperator(task_id="kick", trigger_dag_id="gamma_report")
    """})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.line, finding.team) == ("MM102", 4, "alpha")
    assert "starts DAG 'gamma_report' of team gamma" in finding.message


def test_mm103_cross_team_marker(tmp_path):
    make_repo(tmp_path, {"dags/beta/clear.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker
        with DAG("beta_clear") as dag:
            ExternalTaskMarker(task_id="clear", external_dag_id="alpha_orders", external_task_id="wait_raw")
    """})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.team) == ("MM103", "beta")
    assert "by hand" in finding.message


def test_mm104_cross_team_dataset(tmp_path):
    make_repo(tmp_path, {
        "dags/beta/publish.py": """
            from airflow import DAG, Dataset
            from airflow.operators.bash import BashOperator
            with DAG("beta_publish") as dag:
                BashOperator(task_id="publish", bash_command="echo", outlets=[Dataset("s3://lake/prices")])
        """,
        "dags/gamma/consume.py": """
            from airflow import DAG, Dataset
            with DAG("gamma_consume", schedule=[Dataset("s3://lake/prices")]) as dag:
                pass
        """,
    })
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.file, finding.line, finding.team) == ("MM104", "dags/gamma/consume.py", 2, "gamma")
    assert "'s3://lake/prices'" in finding.message and "'beta_publish' of team beta" in finding.message


def test_mm105_custom_dependency_from_a_rule_pack(tmp_path):
    make_repo(tmp_path, {"dags/gamma/custom.py": """
        from airflow import DAG
        from company.sensors import CompanyDagSensor
        with DAG("gamma_custom") as dag:
            CompanyDagSensor(task_id="wait", upstream_dag="alpha_orders")
    """})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.team) == ("MM105", "gamma")
    assert "company_sensor" in finding.message and "company.sensors.CompanyDagSensor" in finding.message


def test_migrated_http_dependencies_are_not_findings(tmp_path):
    """The codemod's output (a kind starting with "http") is migrated, even when it names a DAG gone elsewhere."""
    make_repo(tmp_path, {"dags/gamma/remote.py": """
        from airflow import DAG
        from company.remote import RemoteDagSensor
        with DAG("gamma_remote") as dag:
            RemoteDagSensor(task_id="wait", remote_dag="alpha_orders")
            RemoteDagSensor(task_id="wait_moved", remote_dag="moved_to_another_instance")
    """})
    result = check_repo(tmp_path)
    assert result.findings == ()


def test_intra_team_dependencies_are_not_findings(tmp_path):
    make_repo(tmp_path, {"dags/alpha/more.py": sensor_dag("alpha_more", "alpha_raw", "alpha_orders")})
    assert check_repo(tmp_path).findings == ()


def test_mm201_unowned_dag(tmp_path):
    make_repo(tmp_path, {"dags/misc/orphan.py": sensor_dag("orphan")})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.file, finding.line, finding.team) == ("MM201", "dags/misc/orphan.py", 3, None)
    assert "'orphan' has no team" in finding.message


def test_mm201_names_the_suggested_team(tmp_path):
    make_repo(tmp_path, {"dags/misc/orphan.py": sensor_dag("orphan", "beta_prices")})
    [finding] = [f for f in check_repo(tmp_path).failing if f.code == "MM201"]
    assert "suggest beta" in finding.message


def test_mm301_team_cycle_is_reported_once_at_its_first_dependency(tmp_path):
    make_repo(tmp_path, {
        "dags/beta/back.py": sensor_dag("beta_back", "alpha_orders"),
        "dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices"),
    })
    result = check_repo(tmp_path)
    [cycle] = [f for f in result.failing if f.code == "MM301"]
    assert (cycle.file, cycle.line) == ("dags/alpha/wait.py", 4)
    assert "alpha -> beta -> alpha" in cycle.message
    assert Counter(f.code for f in result.failing) == {"MM101": 2, "MM301": 1}


def test_mm301_a_cycle_through_a_migrated_edge_is_broken(tmp_path):
    make_repo(tmp_path, {
        "dags/beta/back.py": """
            from airflow import DAG
            from company.remote import RemoteDagSensor
            with DAG("beta_back") as dag:
                RemoteDagSensor(task_id="wait", remote_dag="alpha_orders")
        """,
        "dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices"),
    })
    assert [f.code for f in check_repo(tmp_path).failing] == ["MM101"]


def test_mm401_dangling_dependency(tmp_path):
    make_repo(tmp_path, {"dags/alpha/ghost.py": sensor_dag("alpha_ghost", "nowhere")})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.line, finding.severity, finding.team) == ("MM401", 4, "warning", "alpha")
    assert "'nowhere', which no analyzed file defines" in finding.message


def test_mm402_duplicate_dag_id_at_each_definition(tmp_path):
    make_repo(tmp_path, {"dags/gamma/again.py": sensor_dag("beta_prices")})
    result = check_repo(tmp_path)
    assert codes(result) == [("MM402", "dags/beta/prices.py", 3), ("MM402", "dags/gamma/again.py", 3)]
    assert "also defined at dags/gamma/again.py:3" in result.failing[0].message


def test_excluded_and_ignored_files_yield_nothing(tmp_path):
    make_repo(tmp_path, {
        "dags/alpha/legacy_wait.py": sensor_dag("alpha_legacy", "beta_prices"),  # mesh.yaml exclude
        "build/alpha/wait.py": sensor_dag("alpha_built", "beta_prices"),  # .gitignore
        "dags/.airflowignore": "gamma/skip_.*\n",
        "dags/gamma/skip_me.py": sensor_dag("gamma_skip", "beta_prices"),  # .airflowignore
    })
    assert check_repo(tmp_path).findings == ()


def test_fingerprints_ignore_lines_but_not_content(tmp_path):
    make_repo(tmp_path, {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices")})
    before = check_repo(tmp_path).failing[0]
    path = tmp_path / "dags/alpha/wait.py"
    path.write_text("# a comment\n\n" + path.read_text())
    moved = check_repo(tmp_path).failing[0]
    assert moved.line == before.line + 2 and moved.fingerprint == before.fingerprint
    path.write_text(sensor_dag("alpha_wait", "gamma_report"))
    assert check_repo(tmp_path).failing[0].fingerprint != before.fingerprint


def test_skyflow_has_every_kind_of_finding(skyflow):
    found = collect(skyflow)
    by_code = Counter(f.code for f in found)
    cross = [link for link in skyflow.graph.links if link.cross_team]
    assert sum(by_code[c] for c in ("MM101", "MM102", "MM103", "MM104", "MM105")) == len(cross)
    assert by_code["MM105"] == 2  # SkyflowDagSensor, from the fixture's own rule pack
    assert by_code["MM301"] == 1 and by_code["MM401"] == 1 and by_code["MM402"] == 2
    assert by_code["MM201"] == 0
    [cycle] = [f for f in found if f.code == "MM301"]
    assert "pricing -> search -> pricing" in cycle.message
    dependency_lines = {(d.span.path, d.span.line) for d in skyflow.facts.dependencies}
    assert (cycle.file, cycle.line) in dependency_lines
    assert all(f.code in CODES and f.line >= 1 and not f.file.startswith("/") for f in found)


def test_skyflow_fails_the_check(skyflow):
    everything = run_check(skyflow)
    assert not everything.clean and len(everything.failing) == len(collect(skyflow))


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_is_documented_in_the_readme(code):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"#### {code} {CODES[code].title}\n" in readme, f"README has no section for {code}"
    assert f"| {code} | {CODES[code].title} | {CODES[code].severity} |" in readme



def test_an_empty_target_id_is_told_as_chosen_at_run_time(tmp_path):
    from mesh_migrate.analysis import analyze
    from mesh_migrate.check.findings import collect
    from mesh_migrate.extract.runner import ExtractOptions

    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "relay.py").write_text(
        "from airflow import DAG\n"
        "from airflow.operators.trigger_dagrun import TriggerDagRunOperator\n"
        "with DAG('relay'):\n"
        "    TriggerDagRunOperator(task_id='next', trigger_dag_id='')\n"
    )
    analysis = analyze(tmp_path, options=ExtractOptions(jobs=1, use_cache=False))
    [dangling] = [f for f in collect(analysis) if f.code == "MM401"]
    assert "empty DAG id" in dangling.message and "chosen at run time" in dangling.message
