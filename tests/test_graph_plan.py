"""Graph findings and split plans, from facts built in memory (no files)."""

from __future__ import annotations

from mesh_migrate.analysis import assemble
from mesh_migrate.config import Instance, MeshConfig, Team
from mesh_migrate.facts import DagFact, DependencyFact, RepoFacts, ResourceUse, SourceSpan, Unresolved
from mesh_migrate.rulepack import load_rule_pack

TEAMS = MeshConfig(
    path="mesh.yaml",
    teams=(
        Team("a", dag_ids=("a_*",), instance=Instance("https://a.example", "airflow_a", 2), line=1),
        Team("b", dag_ids=("b_*",), instance=Instance("https://b.example", "airflow_b", 3), line=2),
        Team("c", dag_ids=("c_*",), line=3),
        Team("d", dag_ids=("d_*",), line=4),
    ),
)


def dag(dag_id):
    return DagFact(dag_id, SourceSpan(f"dags/{dag_id}.py", 5), "with")


def dep(kind, source, target, holder=None, task="t", **extra):
    holder = holder or (target if kind in ("sensor", "dataset") else source)
    return DependencyFact(kind, source, target, holder, task, SourceSpan(f"dags/{holder}.py", 9), **extra)


def build(deps, resources=(), unresolved=(), dags=("a_1", "a_2", "b_1", "c_1", "d_1")):
    facts = RepoFacts(
        root=".",
        files=tuple(f"dags/{d}.py" for d in dags),
        dags=tuple(dag(d) for d in dags),
        dependencies=tuple(deps),
        resources=tuple(resources),
        unresolved=tuple(unresolved),
    )
    return assemble(facts, TEAMS, load_rule_pack())


def test_team_graph_aggregates_cross_team_edges_by_kind():
    analysis = build([
        dep("sensor", "a_1", "b_1"),
        dep("sensor", "a_2", "b_1", task="t2"),
        dep("dataset", "a_1", "b_1", task="publish", dataset="s3://x"),
        dep("sensor", "a_1", "a_2"),  # intra-team: not on the team graph
    ])
    edges = {(a, b): d for a, b, d in analysis.graph.teams.edges(data=True)}
    assert set(edges) == {("a", "b")}
    assert edges[("a", "b")]["weight"] == 3
    assert edges[("a", "b")]["kinds"] == {"dataset": 1, "sensor": 2}
    crossing = {(l.dependency.source, l.dependency.target): l.cross_team for l in analysis.graph.links}
    assert crossing[("a_1", "a_2")] is False and crossing[("a_1", "b_1")] is True
    # Datasets are resource nodes too: producer -> dataset -> consumer.
    dags = analysis.graph.dags
    assert dags.nodes["dataset:s3://x"]["type"] == "dataset"
    assert dags.has_edge("a_1", "dataset:s3://x") and dags.has_edge("dataset:s3://x", "b_1")


def test_cycles_groups_and_waves():
    analysis = build([
        dep("sensor", "a_1", "b_1"),  # b waits on a
        dep("trigger", "b_1", "a_2"),  # a_2 runs after b_1: a waits on b
        dep("sensor", "b_1", "c_1"),
        dep("sensor", "c_1", "d_1"),
    ])
    graph = analysis.graph
    assert graph.cycles == (("a", "b"),)
    assert graph.groups == (("a", "b"),)
    # Teams nobody waits on first: d, then c, then a and b together.
    assert graph.waves == (("d",), ("c",), ("a", "b"))
    plan_a = next(p for p in analysis.plans if p.team == "a")
    assert plan_a.wave == 3 and plan_a.moves_with == ("b",)


def test_self_dependency_is_allowed_and_not_a_cycle():
    analysis = build([dep("sensor", "a_1", "a_1")])
    assert analysis.graph.cycles == ()
    assert len(analysis.graph.self_dependencies) == 1


def test_dangling_and_duplicates():
    facts_dags = ("a_1", "b_1")
    analysis = build([dep("sensor", "ghost", "a_1")], dags=facts_dags)
    assert [l.other_dag for l in analysis.graph.dangling] == ["ghost"]
    plan_a = next(p for p in analysis.plans if p.team == "a")
    assert any("no analyzed file defines" in m.why for m in plan_a.manual)


def test_shared_resources_across_teams():
    uses = [
        ResourceUse("connection", "dwh", "a_1", SourceSpan("dags/a_1.py", 3)),
        ResourceUse("connection", "dwh", "b_1", SourceSpan("dags/b_1.py", 3)),
        ResourceUse("connection", "a_only", "a_1", SourceSpan("dags/a_1.py", 4)),
        ResourceUse("module", "common.sensors", "a_1", SourceSpan("dags/a_1.py", 1)),
        ResourceUse("module", "common.sensors", "c_1", SourceSpan("dags/c_1.py", 1)),
    ]
    analysis = build([], resources=uses)
    shared = {(s.kind, s.name): s.teams for s in analysis.graph.shared}
    assert shared == {("connection", "dwh"): ("a", "b"), ("module", "common.sensors"): ("a", "c")}
    plan_a = next(p for p in analysis.plans if p.team == "a")
    assert [(r.name, r.shared_with) for r in plan_a.resources] == [("a_only", ()), ("dwh", ("b",))]
    assert [(m.name, m.shared_with) for m in plan_a.modules] == [("common.sensors", ("c",))]


def test_plan_inbound_outbound_and_manual_work():
    analysis = build(
        [
            dep("sensor", "a_1", "b_1", arguments=(("execution_date_fn", "compute_date"),)),
            dep("sensor", "c_1", "b_1", task="wait_c"),
            dep("trigger", "b_1", "d_1", task="kick"),
            dep("marker", "b_1", "c_1", task="clear"),
            dep("sensor", "b_1", "a_2", task="back"),
        ],
        unresolved=[Unresolved("dag_id", "os.getenv('X')", "read from an environment variable at parse time", SourceSpan("dags/b_1.py", 2))],
    )
    plan_b = next(p for p in analysis.plans if p.team == "b")
    assert plan_b.instance.http_conn_id == "airflow_b" and plan_b.instance.api_version == 3
    assert not plan_b.instance_is_placeholder
    outbound = {(p.dependency.kind, p.their_dag, p.automatic) for p in plan_b.outbound}
    # Any execution_date_fn: the drop-in sensor computes the date at run time, as Airflow's does.
    assert outbound == {("sensor", "a_1", True), ("sensor", "c_1", True), ("trigger", "d_1", True), ("marker", "c_1", False)}
    assert [(p.dependency.task_id, p.their_team) for p in plan_b.inbound] == [("back", "a")]
    whys = " ".join(m.why for m in plan_b.manual)
    assert "cannot clear across instances" in whys
    assert "environment variable" in whys
    plan_c = next(p for p in analysis.plans if p.team == "c")
    assert plan_c.instance_is_placeholder and plan_c.instance.http_conn_id == "airflow_c"


def _overviews_match_plans(analysis) -> None:
    plans = {plan.team: plan for plan in analysis.plans}
    assert [o.team for o in analysis.team_overviews] == list(plans)
    for overview in analysis.team_overviews:
        plan = plans[overview.team]
        assert (overview.dags, overview.inbound, overview.outbound) == (len(plan.dags), len(plan.inbound), len(plan.outbound))
        assert (overview.wave, overview.instance) == (plan.wave, plan.instance)


def test_team_overviews_count_what_the_plans_hold() -> None:
    """The analysis document lists each plan by its overview, without building the plans."""
    analysis = build(
        [dep("sensor", "b_1", "a_1"), dep("sensor", "a_2", "a_1"), dep("trigger", "a_1", "c_1"), dep("dataset", "d_1", "b_1", dataset="s3://x"), dep("sensor", "gone", "a_2")],
        dags=("a_1", "a_2", "b_1", "c_1", "d_1", "a_1"),
    )
    assert "plans" not in analysis.__dict__ and "identities" not in analysis.__dict__
    _overviews_match_plans(analysis)
    # a_1 waits on b_1 and triggers c_1 (both cross-team), a_2 waits on a_1 (inside the team)
    counts = {o.team: (o.dags, o.inbound, o.outbound) for o in analysis.team_overviews}
    assert (counts["a"], counts["b"], counts["c"]) == ((3, 0, 2), (1, 1, 1), (1, 1, 0))


def test_team_overviews_of_the_fixture_count_what_its_plans_hold(skyflow) -> None:
    _overviews_match_plans(skyflow)
