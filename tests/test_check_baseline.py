"""The baseline: write, pass, add a sensor, fail, remove, stale; keyed by content, not lines."""

from __future__ import annotations

import json

import pytest

from mesh_migrate.check import BaselineError
from mesh_migrate.check.baseline import BaselineEntry, apply_baseline, baseline_document, parse_baseline
from mesh_migrate.check.findings import Finding

from .checkrepo import make_repo, run, sensor_dag


def test_round_trip_through_the_cli(tmp_path):
    repo = make_repo(tmp_path / "repo", {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices")})
    baseline = tmp_path / "mesh-baseline.json"

    written = run("check", repo, "--write-baseline", baseline)
    assert written.exit_code == 0, written.output
    doc = json.loads(baseline.read_text())
    assert doc["schema"] == "mesh-migrate/baseline@1"
    assert [(e["code"], e["file"]) for e in doc["findings"]] == [("MM101", "dags/alpha/wait.py")]

    assert run("check", repo).exit_code == 1
    passed = run("check", repo, "--baseline", baseline)
    assert passed.exit_code == 0, passed.output
    assert "no findings; 1 accepted in the baseline" in passed.output

    # Lines inserted above the accepted sensor leave it accepted.
    path = repo / "dags/alpha/wait.py"
    path.write_text('"""Waits."""\n\n\n' + path.read_text())
    assert run("check", repo, "--baseline", baseline).exit_code == 0

    # A new cross-team sensor fails, and only it is reported.
    (repo / "dags/alpha/more.py").write_text(sensor_dag("alpha_more", "gamma_report"))
    failed = run("check", repo, "--baseline", baseline)
    assert failed.exit_code == 1
    assert "dags/alpha/more.py:4: MM101" in failed.output and "wait.py" not in failed.output
    assert "1 new finding (MM101 x1); 1 accepted in the baseline" in failed.output

    # Removing both sensors leaves the baseline entry stale: reported, so the baseline shrinks, not failing.
    (repo / "dags/alpha/more.py").unlink()
    path.write_text(sensor_dag("alpha_wait"))
    stale = run("check", repo, "--baseline", baseline, "--format", "json")
    assert stale.exit_code == 0
    doc = json.loads(stale.output)
    assert doc["findings"] == [] and [e["file"] for e in doc["stale_baseline"]] == ["dags/alpha/wait.py"]
    assert doc["summary"]["stale_baseline"] == 1 and doc["summary"]["clean"]
    assert run("check", repo, "--write-baseline", baseline).exit_code == 0
    assert json.loads(baseline.read_text())["findings"] == []
    assert run("check", repo, "--baseline", baseline).exit_code == 0


def test_write_baseline_needs_the_whole_repository(tmp_path):
    repo = make_repo(tmp_path / "repo")
    result = run("check", repo, repo / "dags/alpha/orders.py", "--write-baseline", tmp_path / "b.json")
    assert result.exit_code == 2 and "give no FILES" in result.output
    assert not (tmp_path / "b.json").exists()


def test_suppressed_findings_need_no_baseline_entry(tmp_path):
    repo = make_repo(tmp_path / "repo", {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices", comment="  # mesh: ignore")})
    assert run("check", repo, "--write-baseline", tmp_path / "b.json").exit_code == 0
    assert json.loads((tmp_path / "b.json").read_text())["findings"] == []


@pytest.mark.parametrize(
    "text, error",
    [
        ("not json", "not a JSON document"),
        ('{"schema": "something/else@1", "findings": []}', "not a mesh-migrate baseline"),
        ('{"schema": "mesh-migrate/baseline@1", "findings": {}}', '"findings" must be a list'),
        ('{"schema": "mesh-migrate/baseline@1", "findings": [{"code": "MM101"}]}', "findings[0] needs"),
    ],
)
def test_a_broken_baseline_is_a_configuration_error(tmp_path, text, error):
    with pytest.raises(BaselineError, match=error.replace("[", r"\[")):
        parse_baseline(text, "b.json")
    (tmp_path / "b.json").write_text(text)
    result = run("check", make_repo(tmp_path / "repo"), "--baseline", tmp_path / "b.json")
    assert result.exit_code == 2 and error in result.output


def test_a_missing_baseline_is_a_configuration_error(tmp_path):
    result = run("check", make_repo(tmp_path / "repo"), "--baseline", tmp_path / "nope.json")
    assert result.exit_code == 2 and "cannot read baseline" in result.output


def test_identical_findings_are_counted():
    twin = Finding("MM101", "a.py", 3, "m", "alpha", "fp")
    entries = [BaselineEntry("MM101", "a.py", "fp")]
    marked, stale = apply_baseline([twin, twin], entries)
    assert [f.baselined for f in marked] == [True, False] and stale == ()
    marked, stale = apply_baseline([], entries * 2)
    assert stale == tuple(entries * 2)


def test_the_document_is_sorted_and_parses_back():
    findings = [Finding("MM201", "b.py", 1, "m2", None, "f2"), Finding("MM101", "a.py", 9, "m1", "alpha", "f1")]
    doc = baseline_document(findings)
    assert [e["file"] for e in doc["findings"]] == ["a.py", "b.py"]
    parsed = parse_baseline(json.dumps(doc), "b.json")
    assert [e.key for e in parsed] == [("MM101", "a.py", "f1"), ("MM201", "b.py", "f2")]
