"""The cross-DAG graph, its projection on teams, and what the migration lead must know of it.

Edges follow Airflow's convention and the data: source -> target means the target runs
after the source (it waits on it, is triggered by it, or consumes what it produces). A
team edge A -> B aggregates the dependencies of B's DAGs on A's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from .facts import DependencyFact, RepoFacts
from .ownership import OwnershipResult

MAX_CYCLES = 50


@dataclass(frozen=True)
class TeamLink:
    """One dependency seen from the teams: `holder_team` must reach `other_team`'s instance."""

    dependency: DependencyFact
    holder_team: str | None
    other_team: str | None
    other_dag: str

    @property
    def cross_team(self) -> bool | None:
        if self.holder_team is None or self.other_team is None:
            return None
        return self.holder_team != self.other_team


@dataclass(frozen=True)
class SharedResource:
    kind: str
    name: str
    teams: tuple[str, ...]
    uses: int


@dataclass(frozen=True)
class MeshGraph:
    teams: nx.DiGraph
    links: tuple[TeamLink, ...]
    cycles: tuple[tuple[str, ...], ...]  # team cycles, each listed once from its smallest team
    groups: tuple[tuple[str, ...], ...]  # teams that wait on each other and must move together
    waves: tuple[tuple[str, ...], ...]
    dangling: tuple[TeamLink, ...]
    self_dependencies: tuple[DependencyFact, ...]
    duplicates: dict[str, tuple[str, ...]]  # dag_id -> files
    # What `dags` is drawn from: the DAG graph is built only when asked for (the JSON
    # document and the plans never need it; a large monolith has tens of thousands of edges).
    sources: tuple[RepoFacts, OwnershipResult] = field(repr=False, compare=False)
    shared: tuple[SharedResource, ...] = field(default=())

    @cached_property
    def dags(self) -> nx.MultiDiGraph:
        return dag_graph(*self.sources, self.links)

    def wave_of(self, team: str) -> int | None:
        for number, wave in enumerate(self.waves, start=1):
            if team in wave:
                return number
        return None

    def cross_team_links(self) -> list[TeamLink]:
        return [link for link in self.links if link.cross_team]


def other_end(dep: DependencyFact) -> str:
    """The DAG a dependency names, seen from the DAG that holds it."""
    return dep.target if dep.source == dep.dag else dep.source


def build_graph(facts: RepoFacts, ownership: OwnershipResult) -> MeshGraph:
    links = tuple(TeamLink(dep, ownership.team_of_id(dep.dag), ownership.team_of_id(other_end(dep)), other_end(dep)) for dep in facts.dependencies)
    teams = team_graph(facts.dependencies, ownership)
    groups = tuple(sorted(tuple(sorted(c)) for c in nx.strongly_connected_components(teams) if len(c) > 1))
    known = {d.dag_id for d in facts.dags}
    by_id: dict[str, list[str]] = defaultdict(list)
    for dag in facts.dags:
        by_id[dag.dag_id].append(dag.span.path)
    return MeshGraph(
        teams=teams,
        links=links,
        cycles=team_cycles(teams),
        groups=groups,
        waves=migration_waves(teams),
        dangling=tuple(link for link in links if link.other_dag not in known),
        self_dependencies=tuple(d for d in facts.dependencies if d.source == d.target),
        duplicates={k: tuple(v) for k, v in sorted(by_id.items()) if len(v) > 1},
        shared=shared_resources(facts, ownership),
        sources=(facts, ownership),
    )


def dag_graph(facts: RepoFacts, ownership: OwnershipResult, links: tuple[TeamLink, ...]) -> nx.MultiDiGraph:
    """Every DAG, dataset and resource, and the edges between them (LINKS: one per dependency)."""
    dags = nx.MultiDiGraph()
    for dag in facts.dags:
        owned = ownership.of(dag)
        dags.add_node(dag.dag_id, type="dag", team=owned.team, file=dag.span.path, line=dag.span.line)
    for link in links:
        dep = link.dependency
        for node in (dep.source, dep.target):
            if node not in dags:
                dags.add_node(node, type="dag", team=None, missing=True)
        dags.add_edge(
            dep.source,
            dep.target,
            kind=dep.kind,
            task_id=dep.task_id,
            source_tasks=list(dep.source_tasks or []),
            dataset=dep.dataset,
            file=dep.span.path,
            line=dep.span.line,
            cross_team=link.cross_team,
        )
    datasets = {(d.source, d.dataset, d.target) for d in facts.dependencies if d.dataset}
    for producer, uri, consumer in sorted(datasets):
        node = f"dataset:{uri}"
        dags.add_node(node, type="dataset", name=uri)
        if not dags.has_edge(producer, node):
            dags.add_edge(producer, node, kind="produces")
        if not dags.has_edge(node, consumer):
            dags.add_edge(node, consumer, kind="consumes")
    for use in facts.resources:
        if use.dag is None:
            continue
        node = f"{use.kind}:{use.name}"
        dags.add_node(node, type=use.kind, name=use.name)
        dags.add_edge(use.dag, node, kind="uses", file=use.span.path, line=use.span.line)
    return dags


def team_graph(dependencies: tuple[DependencyFact, ...], ownership: OwnershipResult) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(ownership.teams)
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for dep in dependencies:
        source, target = ownership.team_of_id(dep.source), ownership.team_of_id(dep.target)
        if source and target and source != target:
            counts[(source, target)][dep.kind] += 1
    for (source, target), kinds in sorted(counts.items()):
        graph.add_edge(source, target, weight=sum(kinds.values()), kinds=dict(sorted(kinds.items())))
    return graph


def team_cycles(teams: nx.DiGraph) -> tuple[tuple[str, ...], ...]:
    """Short cycles first; bounded, since a dense graph has exponentially many."""
    found: list[tuple[str, ...]] = []
    for cycle in nx.simple_cycles(teams, length_bound=6):
        start = cycle.index(min(cycle))
        found.append(tuple(cycle[start:] + cycle[:start]))
        if len(found) >= MAX_CYCLES:
            break
    return tuple(sorted(found, key=lambda c: (len(c), c)))


def migration_waves(teams: nx.DiGraph) -> tuple[tuple[str, ...], ...]:
    """Teams nobody waits on move first, the most upstream teams last.

    A team that others still wait on inside the monolith cannot leave before them without
    breaking their sensors. A team nobody waits on can: only its own sensors change (they
    poll the monolith over HTTP, through one connection per upstream team), and when an
    upstream team follows in a later wave that connection is repointed at its new
    instance, with no code change. Teams in a cycle share a wave: they move together, or
    one edge is broken first.
    """
    condensed = nx.condensation(teams.reverse(copy=False))
    waves = []
    for generation in nx.topological_generations(condensed):
        members = sorted(team for component in generation for team in condensed.nodes[component]["members"])
        waves.append(tuple(members))
    return tuple(waves)


def shared_resources(facts: RepoFacts, ownership: OwnershipResult) -> tuple[SharedResource, ...]:
    """Connections, variables, pools and modules used by DAGs of several teams."""
    teams: dict[tuple[str, str], set[str]] = defaultdict(set)
    uses: Counter = Counter()
    for use in facts.resources:
        team = ownership.team_of_id(use.dag) if use.dag else None
        if team:
            teams[(use.kind, use.name)].add(team)
            uses[(use.kind, use.name)] += 1
    return tuple(
        SharedResource(kind, name, tuple(sorted(members)), uses[(kind, name)])
        for (kind, name), members in sorted(teams.items())
        if len(members) > 1
    )
