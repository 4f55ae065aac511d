"""`mesh-migrate check` end to end: exit codes, FILES, and the text, JSON, GitHub and SARIF reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from mesh_migrate.check import formats
from mesh_migrate.check.run import scope_of

from .checkrepo import make_repo, run, sensor_dag
from .conftest import SKYFLOW

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def sarif_errors(document) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(SARIF_SCHEMA).iter_errors(document)]


@pytest.fixture
def repo(tmp_path):
    """Two findings in two files (MM101 at alpha, MM102 at gamma), one suppressed MM101, one unused comment."""
    return make_repo(tmp_path / "repo", {
        "dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices"),
        "dags/alpha/quiet.py": sensor_dag("alpha_quiet", "gamma_report", comment="  # mesh: ignore[MM101]"),
        "dags/gamma/kick.py": """
            from airflow import DAG
            from airflow.operators.trigger_dagrun import TriggerDagRunOperator
            with DAG("gamma_kick") as dag:
                TriggerDagRunOperator(task_id="kick", trigger_dag_id="beta_prices")  # mesh: ignore[MM102,MM103]
        """,
    })


def test_exit_codes(tmp_path, repo):
    assert run("check", make_repo(tmp_path / "clean")).exit_code == 0
    assert run("check", repo).exit_code == 1
    assert run("check", tmp_path / "missing").exit_code == 2
    (tmp_path / "clean" / "mesh.yaml").write_text("version: 1\ncolour: blue\n")
    broken = run("check", tmp_path / "clean")
    assert broken.exit_code == 2 and "unknown key 'colour'" in broken.output


def test_an_internal_error_exits_2_not_1(repo, monkeypatch):
    import mesh_migrate.check as check

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(check, "run_check", explode)
    result = run("check", repo)
    assert result.exit_code == 2 and "internal error: RuntimeError('boom')" in result.output


def test_text_report(repo):
    result = run("check", repo)
    lines = result.output.splitlines()
    prefix = f"{repo.as_posix()}/dags/"
    assert lines[0].startswith(prefix + "alpha/wait.py:4: MM101 sensor 'wait_beta_prices' in DAG 'alpha_wait' (alpha)")
    assert lines[1].startswith(prefix + "gamma/kick.py:4: MM900 `# mesh: ignore[MM102,MM103]`: no MM103 finding")
    assert lines[-1] == "2 findings (MM101 x1, MM900 x1); 2 suppressed"
    assert "quiet.py" not in result.output
    verbose = run("-v", "check", repo).output
    assert "quiet.py:4: MM101" in verbose and "[suppressed]" in verbose
    assert run("-q", "check", repo).output.splitlines() == [lines[-1]]


def test_json_report_follows_the_analysis_conventions(repo):
    result = run("check", repo, "--format", "json")
    doc = json.loads(result.output)
    assert doc["schema"] == "mesh-migrate/check@1"
    assert doc["tool"]["name"] == "mesh-migrate" and doc["tool"]["version"]
    first = doc["findings"][0]
    assert set(first) >= {"code", "title", "severity", "message", "file", "line", "team", "fingerprint", "suppressed"}
    assert [(f["code"], f["file"], f["suppressed"]) for f in doc["findings"]] == [
        ("MM101", "dags/alpha/quiet.py", True),
        ("MM101", "dags/alpha/wait.py", False),
        ("MM102", "dags/gamma/kick.py", True),
        ("MM900", "dags/gamma/kick.py", False),
    ]
    assert doc["stale_baseline"] == []
    assert doc["summary"] == {"clean": False, "failing": 2, "baselined": 0, "suppressed": 2, "stale_baseline": 0, "by_code": {"MM101": 1, "MM900": 1}}


def test_github_annotations(repo):
    result = run("check", repo, "--format", "github")
    lines = result.output.splitlines()
    path = f"{repo.as_posix()}/dags/alpha/wait.py".replace(":", "%3A").replace(",", "%2C")
    assert lines[0].startswith(f"::error file={path},line=4,title=MM101 cross-team sensor::sensor 'wait_beta_prices'")
    assert lines[1].startswith("::warning file=") and "title=MM900 unused suppression::" in lines[1]
    assert not lines[-1].startswith("::")


def test_github_escaping():
    assert formats._escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert formats._escape_data("50%, done:\r\n") == "50%25, done:%0D%0A"


def test_sarif_is_valid_and_marks_suppressions(repo, tmp_path):
    baseline = tmp_path / "b.json"
    (repo / "dags/beta/late.py").write_text(sensor_dag("beta_late", "gamma_report"))
    assert run("check", repo, "--write-baseline", baseline).exit_code == 0
    (repo / "dags/beta/late.py").unlink()
    (repo / "dags/beta/new.py").write_text(sensor_dag("beta_new", "gamma_report"))
    out = tmp_path / "mesh.sarif"
    result = run("check", repo, "--format", "sarif", "--baseline", baseline, "-o", out)
    assert result.exit_code == 1 and result.output == ""
    doc = json.loads(out.read_text())
    assert sarif_errors(doc) == []
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:2] == ["MM101", "MM102"]
    states = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[-1]): r for r in run_["results"]}
    assert states[("MM101", "new.py")]["baselineState"] == "new" and "suppressions" not in states[("MM101", "new.py")]
    assert states[("MM101", "wait.py")]["suppressions"] == [{"kind": "external", "justification": "accepted in the baseline"}]
    assert states[("MM101", "quiet.py")]["suppressions"][0]["kind"] == "inSource"
    for result_ in run_["results"]:
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["partialFingerprints"]["meshMigrate/v1"]
    [stale] = run_["invocations"][0]["toolExecutionNotifications"]
    assert "stale baseline entry MM101" in stale["message"]["text"]


def test_sarif_of_skyflow_is_valid(tmp_path):
    out = tmp_path / "skyflow.sarif"
    result = run("check", SKYFLOW, "--format", "sarif", "--output", out)
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert sarif_errors(doc) == []
    assert len(doc["runs"][0]["results"]) > 100


def test_sarif_paths_are_uris():
    assert formats._location("dags/a b#c.py", 3)["physicalLocation"]["artifactLocation"]["uri"] == "dags/a%20b%23c.py"
    assert "region" not in formats._location("dags/a.py", 0)["physicalLocation"]


def test_files_limit_the_report_but_not_the_analysis(repo, monkeypatch):
    monkeypatch.chdir(repo)
    result = run("check", ".", "dags/gamma/kick.py", "--format", "json")
    doc = json.loads(result.output)
    assert {f["file"] for f in doc["findings"]} == {"dags/gamma/kick.py"}
    assert result.exit_code == 1  # its unused suppression
    # the analysis still saw beta's DAG in another file, so the trigger is cross-team, not dangling
    assert [f["code"] for f in doc["findings"]] == ["MM102", "MM900"]
    assert run("check", ".", "dags/alpha/quiet.py").exit_code == 0
    assert run("check", ".", "dags/beta/prices.py", "dags/gamma/report.py").exit_code == 0


def test_files_relative_to_the_cwd_or_absolute(repo, monkeypatch):
    monkeypatch.chdir(repo / "dags")
    relative = run("check", "..", "alpha/wait.py", "--format", "json")
    absolute = run("check", "..", str(repo / "dags/alpha/wait.py"), "--format", "json")
    for result in (relative, absolute):
        assert [f["file"] for f in json.loads(result.output)["findings"]] == ["dags/alpha/wait.py"]
    folder = run("check", "..", "alpha", "--format", "json")
    assert {f["file"] for f in json.loads(folder.output)["findings"]} == {"dags/alpha/wait.py", "dags/alpha/quiet.py"}


def test_excluded_ignored_and_outside_files_are_not_reported(repo, tmp_path, monkeypatch):
    (repo / "dags/alpha/legacy_wait.py").write_text(sensor_dag("alpha_legacy", "beta_prices", comment="  # mesh: ignore[MM105]"))
    (repo / "build").mkdir()
    (repo / "build/wait.py").write_text(sensor_dag("built", "beta_prices"))
    (tmp_path / "elsewhere.py").write_text(sensor_dag("elsewhere", "beta_prices"))
    monkeypatch.chdir(repo)
    result = run("check", ".", "dags/alpha/legacy_wait.py", "build/wait.py", str(tmp_path / "elsewhere.py"), "missing.py")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no findings"


def test_scope_of_maps_names_to_repository_paths(tmp_path):
    root = make_repo(tmp_path / "repo")
    scope = scope_of(root, ["dags/alpha/orders.py", str(root / "dags/beta"), "../outside.py"], cwd=root)
    assert "dags/alpha/orders.py" in scope and "dags/beta/prices.py" in scope
    assert "dags/gamma/report.py" not in scope and "outside.py" not in scope
    assert "anything.py" in scope_of(root, ["."], cwd=root)
    link = tmp_path / "link"
    os.symlink(root, link)
    assert "dags/alpha/orders.py" in scope_of(link, ["dags/alpha/orders.py"], cwd=root)


def test_the_codemods_output_passes_the_check(tmp_path):
    """What `mesh-migrate codemod` writes is migrated: the findings it rewrites go away."""
    repo = make_repo(tmp_path / "repo", {
        "dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices"),
        "dags/alpha/kick.py": """
            from airflow import DAG
            from airflow.operators.trigger_dagrun import TriggerDagRunOperator
            with DAG("alpha_kick") as dag:
                TriggerDagRunOperator(task_id="kick", trigger_dag_id="gamma_report")
        """,
    })
    before = json.loads(run("check", repo, "--format", "json").output)
    assert before["summary"]["by_code"] == {"MM101": 1, "MM102": 1}
    rewritten = run("codemod", repo, "--team", "alpha", "--apply", "--allow-dirty")
    assert rewritten.exit_code == 0, rewritten.output
    after = run("check", repo)
    assert after.exit_code == 0, after.output
