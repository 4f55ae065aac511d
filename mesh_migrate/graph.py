"""The cross-DAG graph, its projection on teams, and what the migration lead must know of it.

Edges follow Airflow's convention and the data: source -> target means the target runs
after the source (it waits on it, is triggered by it, or consumes what it produces). A
team edge A -> B aggregates the dependencies of B's DAGs on A's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable

from .facts import DependencyFact, RepoFacts
from .ownership import OwnershipResult

if TYPE_CHECKING:  # imported where a graph object is drawn: the analysis needs none (0.1 s)
    import networkx as nx

MAX_CYCLES = 50
CYCLE_LENGTH = 6  # teams; longer cycles are not listed

# A team edge: (source team, target team, {"weight": dependencies, "kinds": {kind: count}}).
TeamEdge = tuple[str, str, dict[str, Any]]


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
    team_names: tuple[str, ...]
    team_edges: tuple[TeamEdge, ...]  # sorted by source and target
    links: tuple[TeamLink, ...]
    cycles: tuple[tuple[str, ...], ...]  # team cycles, each listed once from its smallest team
    groups: tuple[tuple[str, ...], ...]  # teams that wait on each other and must move together
    waves: tuple[tuple[str, ...], ...]
    dangling: tuple[TeamLink, ...]
    self_dependencies: tuple[DependencyFact, ...]
    duplicates: dict[str, tuple[str, ...]]  # dag_id -> files
    # What `dags` and `shared` are drawn from, only when asked for: the JSON document and
    # the plans need neither (a large monolith has tens of thousands of edges and uses).
    sources: tuple[RepoFacts, OwnershipResult] = field(repr=False, compare=False)

    @cached_property
    def dags(self) -> nx.MultiDiGraph:
        return dag_graph(*self.sources, self.links)

    @cached_property
    def shared(self) -> tuple[SharedResource, ...]:
        return shared_resources(*self.sources)

    @cached_property
    def teams(self) -> nx.DiGraph:
        """The team graph as a networkx graph, for drawing it."""
        return team_graph(self.team_names, self.team_edges)

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
    team_of = ownership.teams_by_id().get
    links = tuple(TeamLink(dep, team_of(dep.dag), team_of(other), other) for dep in facts.dependencies for other in (other_end(dep),))
    edges = team_edges(facts.dependencies, ownership)
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in edges:
        successors[source].append(target)
    components = strongly_connected(ownership.teams, successors)
    groups = tuple(sorted(tuple(sorted(c)) for c in components if len(c) > 1))
    known = {d.dag_id for d in facts.dags}
    by_id: dict[str, list[str]] = defaultdict(list)
    for dag in facts.dags:
        by_id[dag.dag_id].append(dag.span.path)
    cycles = short_cycles(successors, components)
    return MeshGraph(
        team_names=ownership.teams,
        team_edges=edges,
        links=links,
        cycles=cycles if cycles is not None else team_cycles(team_graph(ownership.teams, edges)),
        groups=groups,
        waves=migration_waves(edges, components),
        dangling=tuple(link for link in links if link.other_dag not in known),
        self_dependencies=tuple(d for d in facts.dependencies if d.source == d.target),
        duplicates={k: tuple(v) for k, v in sorted(by_id.items()) if len(v) > 1},
        sources=(facts, ownership),
    )


def dag_graph(facts: RepoFacts, ownership: OwnershipResult, links: tuple[TeamLink, ...]) -> nx.MultiDiGraph:
    """Every DAG, dataset and resource, and the edges between them (LINKS: one per dependency)."""
    import networkx as nx

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


def team_edges(dependencies: tuple[DependencyFact, ...], ownership: OwnershipResult) -> tuple[TeamEdge, ...]:
    """One edge per pair of teams whose DAGs depend on each other, with how many of each kind."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    team_of = ownership.teams_by_id().get
    for dep in dependencies:
        source, target = team_of(dep.source), team_of(dep.target)
        if source and target and source != target:
            counts[(source, target)][dep.kind] += 1
    return tuple((source, target, {"weight": sum(kinds.values()), "kinds": dict(sorted(kinds.items()))}) for (source, target), kinds in sorted(counts.items()))


def team_graph(names: Iterable[str], edges: Iterable[TeamEdge]) -> nx.DiGraph:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for source, target, data in edges:
        graph.add_edge(source, target, **data)
    return graph


def strongly_connected(nodes: Iterable[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors.get(root, ())))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def short_cycles(successors: dict[str, list[str]], components: list[list[str]]) -> tuple[tuple[str, ...], ...] | None:
    """Every cycle of at most CYCLE_LENGTH teams, each from its smallest team, short ones
    first; None when there are more than MAX_CYCLES (then `team_cycles` picks them)."""
    found: list[tuple[str, ...]] = []

    def extend(path: list[str], members: set[str]) -> bool:
        start = path[0]
        for following in successors.get(path[-1], ()):
            if following == start:
                found.append(tuple(path))
                if len(found) > MAX_CYCLES:
                    return False
            elif following > start and following in members and following not in path and len(path) < CYCLE_LENGTH:
                path.append(following)
                complete = extend(path, members)
                path.pop()
                if not complete:
                    return False
        return True

    for component in components:
        if len(component) > 1:
            members = set(component)
            for start in sorted(component):
                if not extend([start], members):
                    return None
    return tuple(sorted(found, key=lambda c: (len(c), c)))


def team_cycles(teams: nx.DiGraph) -> tuple[tuple[str, ...], ...]:
    """Short cycles first; bounded, since a dense graph has exponentially many."""
    import networkx as nx

    found: list[tuple[str, ...]] = []
    for cycle in nx.simple_cycles(teams, length_bound=CYCLE_LENGTH):
        start = cycle.index(min(cycle))
        found.append(tuple(cycle[start:] + cycle[:start]))
        if len(found) >= MAX_CYCLES:
            break
    return tuple(sorted(found, key=lambda c: (len(c), c)))


def migration_waves(edges: Iterable[TeamEdge], components: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    """Teams nobody waits on move first, the most upstream teams last.

    A team that others still wait on inside the monolith cannot leave before them without
    breaking their sensors. A team nobody waits on can: only its own sensors change (they
    poll the monolith over HTTP, through one connection per upstream team), and when an
    upstream team follows in a later wave that connection is repointed at its new
    instance, with no code change. Teams in a cycle share a wave: they move together, or
    one edge is broken first. (The layers of the components' graph, edges reversed.)
    """
    component_of = {team: number for number, component in enumerate(components) for team in component}
    upstreams: dict[int, set[int]] = defaultdict(set)  # component -> the components it waits on
    for source, target, _ in edges:
        if component_of[source] != component_of[target]:
            upstreams[component_of[target]].add(component_of[source])
    waited_on_by = Counter(upstream for waited_on in upstreams.values() for upstream in waited_on)
    generation = [number for number in range(len(components)) if waited_on_by[number] == 0]
    waves = []
    while generation:
        waves.append(tuple(sorted(team for number in generation for team in components[number])))
        following = []
        for number in generation:  # gone: what it waited on is waited on by one fewer
            for upstream in upstreams[number]:
                waited_on_by[upstream] -= 1
                if waited_on_by[upstream] == 0:
                    following.append(upstream)
        generation = following
    return tuple(waves)


def shared_resources(facts: RepoFacts, ownership: OwnershipResult) -> tuple[SharedResource, ...]:
    """Connections, variables, pools and modules used by DAGs of several teams."""
    teams: dict[tuple[str, str], set[str]] = defaultdict(set)
    uses: Counter = Counter()
    team_of = ownership.teams_by_id().get
    for use in facts.resources:
        team = team_of(use.dag) if use.dag else None
        if team:
            teams[(use.kind, use.name)].add(team)
            uses[(use.kind, use.name)] += 1
    return tuple(
        SharedResource(kind, name, tuple(sorted(members)), uses[(kind, name)])
        for (kind, name), members in sorted(teams.items())
        if len(members) > 1
    )
