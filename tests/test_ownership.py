"""Ownership from facts built in memory: each source, its strength, conflicts and suggestions."""

from __future__ import annotations

from mesh_migrate.codeowners import parse_codeowners
from mesh_migrate.config import MeshConfig, Team
from mesh_migrate.facts import DagFact, DependencyFact, RepoFacts, ResourceUse, SourceSpan
from mesh_migrate.ownership import TeamAssigner, assign_teams


def dag(dag_id, path, owners=(), tags=()):
    return DagFact(dag_id, SourceSpan(path, 1), "with", tuple(owners), tuple(tags))


def facts(*dags, deps=(), resources=()):
    return RepoFacts(root=".", files=tuple(sorted({d.span.path for d in dags})), dags=tuple(dags), dependencies=tuple(deps), resources=tuple(resources))


def sensor(source, target):
    return DependencyFact("sensor", source, target, target, "wait", SourceSpan("x.py", 1))


CONFIG = MeshConfig(
    path="mesh.yaml",
    people={"alice@x.example": "flights"},
    folders_are_teams="dags",
    teams=(
        Team("flights", paths=("dags/flights/**",), owners=("flights-data",), line=3),
        Team("hotels", dag_ids=("hotels_*",), tags=("team:hotels",), codeowners=("@org/hotels",), line=9),
        Team("crm", codeowners=("@org/crm",), line=15),
        Team("finance", line=20),
    ),
)


def owner_of(result, dag_id):
    return next(o for o in result.by_dag.values() if o.dag_id == dag_id)


def test_each_source_in_order_of_strength():
    repo = facts(
        dag("a", "dags/flights/a.py"),
        dag("hotels_b", "dags/misc/b.py"),
        dag("c", "dags/misc/c.py"),
        dag("d", "dags/misc/d.py", owners=["alice@x.example"]),
        dag("e", "dags/misc/e.py", tags=["team:finance"]),
        dag("f", "dags/finance/f.py"),
    )
    codeowners = parse_codeowners("/dags/misc/c.py @org/crm\n")
    result = assign_teams(repo, CONFIG, codeowners)
    got = {o.dag_id: (o.team, o.source) for o in result.by_dag.values()}
    assert got == {
        "a": ("flights", "mesh.yaml"),
        "hotels_b": ("hotels", "mesh.yaml"),
        "c": ("crm", "CODEOWNERS"),
        "d": ("flights", "owner"),
        "e": ("finance", "tag"),
        "f": ("finance", "folder"),
    }
    assert "dags/flights/**" in owner_of(result, "a").reason
    assert "CODEOWNERS:1" in owner_of(result, "c").reason


def test_conflict_keeps_the_strongest_and_warns_with_the_others():
    repo = facts(dag("x", "dags/flights/x.py", tags=["team:crm"]))
    codeowners = parse_codeowners("/dags/ @org/hotels\n")
    result = assign_teams(repo, CONFIG, codeowners)
    owned = owner_of(result, "x")
    assert (owned.team, owned.source) == ("flights", "mesh.yaml")
    assert {(c.team, c.source) for c in owned.overruled} == {("hotels", "CODEOWNERS"), ("crm", "tag")}
    [warning] = [d for d in result.diagnostics if d.code == "ownership-conflict"]
    assert "hotels by CODEOWNERS" in warning.message and "crm by tag" in warning.message


def test_codeowners_last_matching_rule_wins():
    rules = parse_codeowners("/dags/ @org/crm\n# comment\n/dags/special.py @org/hotels\n")
    assert rules.owners_of("dags/special.py").owners == ("@org/hotels",)
    assert rules.owners_of("dags/other.py").owners == ("@org/crm",)
    assert rules.owners_of("plugins/x.py") is None


def test_gitlab_sections_and_default_owners():
    rules = parse_codeowners("[Data] @org/crm\n/dags/\n^[Docs][2] @org/hotels\n*.md\n")
    assert rules.owners_of("dags/a.py").owners == ("@org/crm",)
    assert rules.owners_of("README.md").owners == ("@org/hotels",)


def test_unowned_dag_gets_a_suggestion_from_its_neighbours():
    repo = facts(
        dag("a", "dags/flights/a.py"),
        dag("b", "dags/flights/b.py"),
        dag("lost", "scripts/lost.py"),
        deps=[sensor("a", "lost"), sensor("b", "lost")],
        resources=[ResourceUse("connection", "fares_db", "lost", SourceSpan("scripts/lost.py", 3)), ResourceUse("connection", "fares_db", "a", SourceSpan("dags/flights/a.py", 3))],
    )
    result = assign_teams(repo, CONFIG, None)
    lost = owner_of(result, "lost")
    assert lost.team is None and lost.source == "unowned"
    assert lost.suggested == "flights"
    assert "3 of 3" in lost.suggestion_reason
    [warning] = [d for d in result.diagnostics if d.code == "unowned-dag"]
    assert "suggested team: flights" in warning.message


def test_without_mesh_yaml_fallbacks_name_teams_and_say_so():
    repo = facts(dag("a", "dags/payments/a.py"), dag("b", "jobs/b.py", owners=["risk"]), dag("c", "jobs/c.py"))
    codeowners = parse_codeowners("/jobs/c.py @org/ledger\n")
    result = assign_teams(repo, MeshConfig(), codeowners)
    got = {o.dag_id: (o.team, o.source) for o in result.by_dag.values()}
    assert got == {"a": ("payments", "folder"), "b": (None, "unowned"), "c": ("ledger", "CODEOWNERS")}
    assert any("no mesh.yaml" in f for f in result.fallbacks)
    assert result.teams == ("ledger", "payments")


def test_claims_prepared_file_by_file_give_the_same_teams():
    """While extraction runs, each file's DAGs are asked of every source as its facts arrive."""
    dags = (
        dag("a", "dags/flights/a.py", owners=["alice@x.example"], tags=["team:hotels"]),
        dag("hotels_b", "dags/misc/b.py"),
        dag("c", "dags/misc/c.py"),
        dag("e", "dags/misc/e.py", tags=["team:finance"]),
    )
    codeowners = parse_codeowners("/dags/misc/ @org/crm\n")
    expected = assign_teams(facts(*dags), CONFIG, codeowners)
    assigner = TeamAssigner(CONFIG, codeowners)
    assigner.prepare(dags[:2])
    assigner.prepare([dag("c", "dags/flights/c.py")])  # a fact of no file assigned below: never used
    assert assigner.assign(facts(*dags)) == expected
    assert owner_of(expected, "c").team == "crm" and owner_of(expected, "a").overruled
