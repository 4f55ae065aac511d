"""Sizing each team's instance from the monolith's load: RuntimeFacts built in memory, and the CLI
on the databases a real Airflow 2 and 3 made (skipped without it, as in test_runtime_db)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate.cli import main
from mesh_migrate.config import Sizing, load_config
from mesh_migrate.facts import DagFact, RepoFacts, ResourceUse, SourceSpan
from mesh_migrate.runtime import RuntimeDag, RuntimeFacts
from mesh_migrate.runtime.facts import TaskSpan
from mesh_migrate.runtime.sizing import UNOWNED, Load, instance_size, peak_concurrency, size_teams
from mesh_migrate.render.sizing_svg import sizing_svg
from mesh_migrate.yamlio import ConfigError

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[1]


def span(dag_id: str, start_min: float, end_min: float) -> TaskSpan:
    return TaskSpan(dag_id, T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=end_min))


def test_peak_is_the_most_tasks_running_at_one_instant():
    assert peak_concurrency([]) == 0
    assert peak_concurrency([span("a", 0, 10), span("a", 5, 15), span("a", 6, 7), span("a", 20, 30)]) == 3
    # back to back is not overlapping: the first ends as the second starts
    assert peak_concurrency([span("a", 0, 10), span("a", 10, 20)]) == 1


def test_formula_with_its_constants():
    settings = Sizing(headroom=1.5, slots_per_vcpu=4, gb_per_vcpu=4, dags_per_scheduler_vcpu=100,
                      parse_mb_per_scheduler_vcpu=2, vcpu_month=24, gb_month=3)
    size = instance_size("t", 250, Load(300, 3600 * 60, 10), 30, (), 1_000_000, settings)
    assert size.worker_slots == 15 and size.worker_vcpus == 4  # ceil(10 × 1.5), ceil(15 / 4)
    assert size.scheduler_vcpus == 3  # 250 DAGs by 100; 1 MB by 2 gives 1
    assert size.memory_gb == 28 and size.monthly_cost == 7 * 24 + 28 * 3
    assert size.task_runs_per_day == 10 and size.task_hours_per_day == 2
    assert instance_size("idle", 1, Load(0, 0, 0), 30, (), 5_000_000, settings).worker_slots == 1
    assert instance_size("big", 1, Load(0, 0, 0), 30, (), 5_000_000, settings).scheduler_vcpus == 3


def test_teams_add_up_to_the_monolith_and_unowned_dags_have_a_row():
    facts = RepoFacts(".", ("a.py", "b.py"), dags=(DagFact("a1", SourceSpan("a.py", 1), "with"), DagFact("b1", SourceSpan("b.py", 1), "with"),
                                                 DagFact("stray", SourceSpan("b.py", 9), "with")),
                      resources=(ResourceUse("pool", "etl", "a1", SourceSpan("a.py", 3)), ResourceUse("pool", "gpu", "a1", SourceSpan("a.py", 4))))
    tasks = (span("a1", 0, 60), span("a1", 30, 90), span("b1", 45, 75), span("stray", 0, 120), span("gone", 10, 20))
    dags = tuple(RuntimeDag(d, False, True, None, (), None, 1, T0) for d in ("a1", "b1", "stray", "gone"))
    runtime = RuntimeFacts("sqlite:///x", "r", "2.10.3", T0, T0 + timedelta(days=2), dags, (), 5, len(tasks), tasks, (("etl", 8),))
    teams = {"a1": "alpha", "b1": "beta"}
    plan = size_teams(facts, runtime, ("alpha", "beta"), teams.get, {"a.py": 3000, "b.py": 500}, Sizing())
    rows = {t.team: t for t in plan.teams}
    assert list(rows) == ["alpha", "beta", UNOWNED]
    assert rows["alpha"].peak_concurrency == 2 and rows["alpha"].task_hours_per_day == 1.0  # 2 h over 2 days
    assert rows["alpha"].pools == (("etl", 8), ("gpu", None)) and rows["alpha"].pool_slots == 8
    assert rows[UNOWNED].dags == 2 and rows[UNOWNED].task_runs_per_day == 1.0  # stray, and gone (only in the database)
    assert rows["alpha"].parse_bytes == 3000 and rows["beta"].parse_bytes == 500 and rows[UNOWNED].parse_bytes == 500
    assert sum(t.task_hours_per_day for t in plan.teams) == pytest.approx(plan.monolith_task_hours_per_day)
    assert sum(t.task_runs_per_day for t in plan.teams) * plan.days == runtime.task_runs
    assert plan.monolith.peak_concurrency == 4
    assert plan.mesh_monthly_cost == pytest.approx(sum(t.monthly_cost for t in plan.teams))
    svg = ET.fromstring(sizing_svg(plan))
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 3


def test_sizing_in_mesh_yaml_is_read_and_validated_with_lines_all_at_once(tmp_path):
    (tmp_path / "mesh.yaml").write_text("version: 1\nsizing:\n  headroom: 2\n  vcpu_month: 30.5\n  monolith_monthly_cost: 20000\n")
    sizing = load_config(tmp_path).sizing
    assert (sizing.headroom, sizing.vcpu_month, sizing.monolith_monthly_cost, sizing.slots_per_vcpu) == (2.0, 30.5, 20000.0, Sizing().slots_per_vcpu)
    (tmp_path / "mesh.yaml").write_text("version: 1\nsizing:\n  headroom: 0.5\n  slots_per_vcpu: 0\n  gb_month: cheap\n  cpus: 4\n  vcpu_month: true\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert sorted(p.line for p in error.value.problems) == [3, 4, 5, 6, 7]
    assert any("sizing.headroom must be a number at least 1" in p.message for p in error.value.problems)


@pytest.mark.runtime
def test_cli_sizes_the_fixture_from_the_real_database(runtime_database, cache_args):
    """The JSON's rows against its monolith row; the Markdown and the chart: test_runtime_db's report."""
    args = ["analyze", str(REPO / "fixtures" / "skyflow"), "--airflow-db", runtime_database.url, "--since", "30d", *cache_args]
    result = CliRunner().invoke(main, args + ["--format", "json"])
    assert result.exit_code == 0, result.output
    sizing = json.loads(result.output)["runtime"]["sizing"]
    teams = sizing["teams"]
    assert teams and teams[-1]["team"] == UNOWNED
    assert sum(t["task_hours_per_day"] for t in teams) == pytest.approx(sizing["monolith"]["task_hours_per_day"], abs=0.01)
    assert sum(t["task_runs_per_day"] for t in teams) == pytest.approx(sizing["monolith"]["task_runs_per_day"], abs=0.01)
    assert all(t["worker_slots"] >= t["peak_concurrency"] for t in teams)
