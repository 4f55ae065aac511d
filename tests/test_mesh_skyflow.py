"""Teams, the team graph, cycles, waves and plans on the bundled monolith, end to end."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from click.testing import CliRunner

from mesh_migrate.cli import main

from .conftest import SKYFLOW
from .test_fixture_skyflow import expected_truth

# The fixture was built with this team order: dependencies only point from a team to itself
# or a later team, except pricing <-> search, its one team cycle.
WAVES = [
    ["analytics", "customer_service", "experiments", "fraud"],
    ["ancillaries", "ml_platform", "notifications"],
    ["marketing", "reviews"],
    ["crm"],
    ["finance", "loyalty"],
    ["payments", "rail"],
    ["pricing", "search"],
    ["cars", "hotels"],
    ["flights", "inventory"],
    ["partners"],
    ["data_platform"],
]


def folder_team(path):
    return path.split("/")[1]


def test_every_dag_has_a_team_with_a_reason(skyflow):
    for dag in skyflow.facts.dags:
        owned = skyflow.ownership.of(dag)
        assert owned.team and owned.reason, dag
    assert len(skyflow.ownership.teams) == 22


def test_exact_cross_team_edge_set(skyflow):
    truth = expected_truth()
    file_of = {d["dag_id"]: d["file"] for d in truth["dags"]}
    expected = {
        (folder_team(file_of[d["source"]]), folder_team(file_of[d["target"]]))
        for d in truth["dependencies"]
        if d["source"] in file_of and d["target"] in file_of
        and folder_team(file_of[d["source"]]) != folder_team(file_of[d["target"]])
    }
    assert set(skyflow.graph.teams.edges()) == expected
    assert len(expected) == 85


def test_cycle_and_waves(skyflow):
    assert skyflow.graph.cycles == (("pricing", "search"),)
    assert [list(w) for w in skyflow.graph.waves] == WAVES


def test_ownership_conflict_is_reported(skyflow):
    owned = next(o for o in skyflow.ownership.by_dag.values() if o.dag_id == "crm_customer_segments")
    assert owned.team == "crm"
    assert {c.team for c in owned.overruled} == {"marketing"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_report_writes_a_plan_for_every_team(report, skyflow):
    out, output = report
    for team in skyflow.ownership.teams:
        markdown = (out / "plans" / f"{team}.md").read_text()
        assert markdown.startswith(f"# Split plan: {team}")
        plan = yaml.safe_load((out / "plans" / f"{team}.yaml").read_text())
        assert plan["schema"] == "mesh-migrate/plan@1" and plan["team"] == team
    assert "wrote" in output and "22 team plans" in output
    summary = (out / "summary.md").read_text()
    assert "pricing → search → pricing" in summary
    graph = json.loads((out / "graph.json").read_text())
    assert {"nodes", "links"} <= set(graph)
    assert (out / "graph.dot").read_text().startswith("digraph")
    assert (out / "site" / "index.html").is_file() and f"review site: {out / 'site' / 'index.html'}" in output


def test_search_plan_lists_its_rewrites_with_lines(report):
    out, _ = report
    plan = yaml.safe_load((out / "plans" / "search.yaml").read_text())
    assert plan["wave"] == 7 and plan["moves_with"] == ["pricing"]
    assert plan["instance"]["http_conn_id"] == "airflow_search"
    sensor = next(o for o in plan["outbound"] if o["task_id"] == "wait_pricing_refresh_uk")
    assert sensor["line"] == "dags/search/search_ranking_features.py:20"
    assert sensor["automatic"] is True
    markdown = (out / "plans" / "search.md").read_text()
    assert "| sensor |" in markdown
    # file:line links are relative, and lead to the analyzed file from wherever the plans are.
    target = re.search(r"\]\(([^)#]+\.py)#L\d+\)", markdown).group(1)
    assert (out / "plans" / target).resolve().is_file()


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program is not installed")
def test_svg_graphs_are_rendered(report):
    out, output = report
    for name in ("graph.svg", "teams.svg"):
        assert (out / name).read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "hint:" not in output


def test_without_dot_a_hint_and_exit_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    result = CliRunner().invoke(main, ["-q", "analyze", str(SKYFLOW), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "hint:" in result.output and "dot" in result.output
    assert (tmp_path / "out" / "graph.dot").exists() and not (tmp_path / "out" / "graph.svg").exists()


def test_json_document_has_teams_cycles_and_waves():
    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--jobs", "1"])
    doc = json.loads(result.output)
    assert doc["schema"] == "mesh-migrate/analysis@1"
    assert doc["cycles"] == [["pricing", "search"]]
    assert doc["waves"] == WAVES
    assert all(d["team"] and d["team_source"] for d in doc["dags"])
    assert {d["cross_team"] for d in doc["dependencies"]} <= {True, False, None}
    assert sum(1 for d in doc["dependencies"] if d["cross_team"]) == 130


@pytest.mark.parametrize("fmt", ["dot", "json", "graphml"])
def test_graph_command_formats(fmt):
    result = CliRunner().invoke(main, ["graph", str(SKYFLOW), "--team", "search", "--format", fmt, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "search_index_build" in result.output
    assert "pricing_refresh_uk" in result.output


def test_graph_command_team_graph_and_unknown_team():
    result = CliRunner().invoke(main, ["graph", str(SKYFLOW), "--jobs", "1"])
    assert result.exit_code == 0 and "pricing" in result.output and "->" in result.output
    bad = CliRunner().invoke(main, ["graph", str(SKYFLOW), "--team", "nobody", "--jobs", "1"])
    assert bad.exit_code == 2 and "unknown team 'nobody'" in bad.output


def test_explain():
    result = CliRunner().invoke(main, ["explain", "search_index_build", str(SKYFLOW), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "team: search" in result.output
    assert "flights_schedule_sync [flights]" in result.output
    assert "pricing_refresh_uk [pricing]" in result.output
    missing = CliRunner().invoke(main, ["explain", "no_such_dag", str(SKYFLOW), "--jobs", "1"])
    assert missing.exit_code == 2


def test_missing_mesh_yaml_still_works(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(SKYFLOW, copy)
    (copy / "mesh.yaml").unlink()
    result = CliRunner().invoke(main, ["analyze", str(copy), "--jobs", "1", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "no mesh.yaml" in result.output
