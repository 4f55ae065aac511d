"""The codemod over the whole bundled monolith, and one git branch per team."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
from mesh_migrate.codemod.runner import apply_changes, run_codemod
from mesh_migrate.extract.runner import ExtractOptions
from mesh_migrate.names import branch_name

from .conftest import SKYFLOW

OPTIONS = ExtractOptions(jobs=1, use_cache=False)
REWRITTEN = ("sensor", "trigger")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A copy of the monolith with every team's codemod applied at once."""
    root = tmp_path_factory.mktemp("skyflow") / "repo"
    shutil.copytree(SKYFLOW, root)
    before = analyze(root, options=OPTIONS)
    result = run_codemod(before, *before.ownership.teams)
    per_team = {team: run_codemod(before, team) for team in before.ownership.teams}  # what each branch holds
    apply_changes(root, result.changes)
    return root, before, result, analyze(root, options=OPTIONS), per_team


def test_every_rewritten_file_parses(migrated):
    root, _, result, _, _ = migrated
    for change in result.changes:
        ast.parse((root / change.path).read_text(), filename=change.path)


def test_at_least_95_percent_of_cross_team_sensors_and_triggers_are_rewritten(migrated):
    _, before, result, _, _ = migrated
    crossing = [link for link in before.graph.links if link.cross_team and link.dependency.kind in REWRITTEN]
    rewritten = [r for r in result.rewrites if r.kind in REWRITTEN]
    # Tasks on a DAG of no team (defined nowhere, here) are manual work too, but not crossing.
    manual = [m for m in result.manual if m.what.split()[0] in REWRITTEN and not m.what.endswith("(no team)")]
    assert len(rewritten) + len(manual) == len(crossing)
    assert len(rewritten) >= 0.95 * len(crossing), (len(rewritten), len(crossing), manual)


def test_no_cross_team_sensor_or_trigger_remains_but_manual_work(migrated):
    _, _, result, after, _ = migrated
    manual = {(m.span.path, m.task_id) for m in result.manual}  # lines move: match by task
    remaining = [
        link.dependency for link in after.graph.links
        if link.cross_team and link.dependency.kind in REWRITTEN
    ]
    for dep in remaining:
        assert (dep.span.path, dep.task_id) in manual, dep


def test_cross_team_datasets_are_posted_by_their_producers(migrated):
    _, before, result, after, _ = migrated
    crossing = {(l.dependency.source, l.dependency.dataset) for l in before.graph.links if l.cross_team and l.dependency.kind == "dataset"}
    posted = {(l.dependency.source, l.dependency.dataset) for l in after.graph.links if l.cross_team and l.dependency.kind == "http_dataset"}
    assert crossing and posted == crossing
    assert not [m for m in result.manual if m.what.startswith("dataset")]


def test_ruff_isort_accepts_every_rewritten_file_it_accepted_before(migrated, tmp_path):
    """Files whose imports isort rejected already keep their own findings; no new one appears."""
    root, _, result, _, _ = migrated
    python = [c for c in result.changes if c.path.endswith(".py") and c.before]
    for change in python:
        (tmp_path / "before" / change.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "before" / change.path).write_text(change.before)
    shutil.copytree(root / "plugins", tmp_path / "before/plugins")

    def rejected(folder: Path) -> set[str]:
        ruff = Path(sys.executable).parent / "ruff"
        done = subprocess.run(
            [str(ruff), "check", "--select", "I", "--isolated", "--config", 'src = ["dags", "plugins"]', "--output-format", "json", *[c.path for c in python]],
            cwd=folder, capture_output=True, text=True, check=False,
        )
        return {finding["filename"].removeprefix(str(folder) + "/") for finding in json.loads(done.stdout)}

    before, after = rejected(tmp_path / "before"), rejected(root)
    assert after <= before, sorted(after - before)
    assert len(python) - len(after) >= 0.8 * len(python)


def test_the_graph_stays_whole_after_migration(migrated):
    _, before, result, after, _ = migrated
    rewritten = Counter(r.kind for r in result.rewrites for _ in r.task_ids)
    kinds = Counter(l.dependency.kind for l in after.graph.links if l.cross_team)
    assert kinds["mesh_sensor"] == rewritten["sensor"] > 0
    assert kinds["mesh_trigger"] == rewritten["trigger"] > 0
    pairs = lambda analysis: {(d.source, d.target) for d in analysis.facts.dependencies}  # noqa: E731
    assert pairs(after) == pairs(before)
    assert set(after.graph.teams.edges()) == set(before.graph.teams.edges())


def test_a_second_run_changes_nothing(migrated):
    _, _, _, after, _ = migrated
    assert run_codemod(after, *after.ownership.teams).changes == ()
    for team in after.ownership.teams:  # one team at a time: only its registry is new
        assert [c.path for c in run_codemod(after, team).changes] in ([], ["plugins/mesh_registry.json"]), team


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_all_teams_branch_makes_one_commit_per_team(tmp_path, migrated):
    repo = tmp_path / "monolith"
    shutil.copytree(SKYFLOW, repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "monolith", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    expected = migrated[4]  # the same monolith, planned once

    result = CliRunner().invoke(main, ["codemod", str(repo), "--all-teams", "--branch", "--jobs", "1", "--no-cache"])
    assert result.exit_code == 0, result.output

    assert git("rev-parse", "HEAD", cwd=repo).strip() == head
    assert git("status", "--porcelain", cwd=repo) == ""
    branches = set(git("branch", "--format=%(refname:short)", cwd=repo).split())
    for team, planned in expected.items():
        branch = branch_name(team)
        if not planned.changes:
            assert branch not in branches
            continue
        assert branch in branches
        assert git("rev-parse", f"{branch}~1", cwd=repo).strip() == head
        changed = set(git("diff", "--name-only", head, branch, cwd=repo).split())
        assert changed == {c.path for c in planned.changes}
        registry = json.loads(git("show", f"{branch}:plugins/mesh_registry.json", cwd=repo))
        assert registry["team"] == team and team not in registry["dags"].values()
        for path in changed:  # every branch parses
            if path.endswith(".py"):
                ast.parse(git("show", f"{branch}:{path}", cwd=repo), filename=f"{branch}:{path}")
        message = git("log", "-1", "--format=%B", branch, cwd=repo)
        assert message.startswith(f"mesh-migrate: rewrite the cross-team dependencies of {team}")
        assert all(str(r.span) in message for r in planned.rewrites)

    again = CliRunner().invoke(main, ["codemod", str(repo), "--team", "search", "--branch", "--jobs", "1", "--no-cache"])
    assert again.exit_code == 2 and "already exists" in again.output


def test_dirty_work_tree_is_refused(tmp_path):
    repo = tmp_path / "monolith"
    shutil.copytree(SKYFLOW, repo)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "monolith", cwd=repo)
    (repo / "dags/search/search_index_build.py").write_text("# edited\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["codemod", str(repo), "--team", "search", "--apply", "--jobs", "1", "--no-cache"])
    assert result.exit_code == 2 and "uncommitted changes" in result.output
    check = CliRunner().invoke(main, ["codemod", str(repo), "--team", "search", "--check", "--jobs", "1", "--no-cache"])
    assert check.exit_code == 1
