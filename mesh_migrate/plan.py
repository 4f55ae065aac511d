"""Split plans: for each team, what moves, what it must provide and what it must rewrite."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .config import Instance, MeshConfig
from .facts import DagFact, DependencyFact, RepoFacts, SourceSpan, is_cloud
from .graph import MeshGraph, TeamLink
from .ownership import OwnershipResult

PLACEHOLDER_CONN = "airflow_{team}"

# What each dependency kind becomes once the two DAGs live on different instances.
REWRITES = {
    "sensor": "ExternalTaskSensor of mesh_http: polls the upstream instance's REST API when the DAG runs there",
    "trigger": "TriggerDagRunOperator of mesh_http: POSTs the DAG run to the instance that runs the DAG",
    "marker": "cannot clear across instances: remove or replace by hand",
    "dataset": "the producing task posts each dataset event to the consumer's instance (post_execute=publish_dataset_events()); the consumer keeps its schedule",
}
# The dependency kinds the codemod migrates wherever they are built (helpers, partials, subclasses).
AUTOMATIC_KINDS = ("sensor", "trigger", "dataset")


@dataclass(frozen=True)
class MovingDag:
    dag_id: str
    span: SourceSpan
    source: str
    reason: str
    overruled: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedDependency:
    dependency: DependencyFact
    our_dag: str
    their_dag: str
    their_team: str | None
    rewrite: str  # what the line becomes, or why it is manual work
    automatic: bool  # True when the codemod rewrites it


@dataclass(frozen=True)
class ResourceNeed:
    kind: str
    name: str
    dags: tuple[str, ...]
    shared_with: tuple[str, ...]  # other teams using it too
    access: str = ""  # cloud resources: "read", "write", "read/write" or "unknown"; accounts: "impersonate"


@dataclass(frozen=True)
class ManualItem:
    what: str
    span: SourceSpan
    why: str


@dataclass(frozen=True)
class SplitPlan:
    team: str
    description: str
    instance: Instance
    instance_is_placeholder: bool
    wave: int | None
    moves_with: tuple[str, ...]  # teams in the same cycle group
    dags: tuple[MovingDag, ...]
    inbound: tuple[PlannedDependency, ...]  # other teams wait on us: give them API access
    outbound: tuple[PlannedDependency, ...]  # we wait on other teams: each line becomes HTTP
    resources: tuple[ResourceNeed, ...]
    modules: tuple[ResourceNeed, ...]
    manual: tuple[ManualItem, ...]


def instance_for(team: str, config: MeshConfig) -> tuple[Instance, bool]:
    configured = config.team(team)
    if configured and configured.instance.http_conn_id:
        return configured.instance, False
    base = configured.instance if configured else Instance()
    return Instance(url=base.url, http_conn_id=PLACEHOLDER_CONN.format(team=team), api_version=base.api_version), True


def is_migrated(dep: DependencyFact) -> bool:
    """The codemod's own output (an HTTP call to the other instance) is already migrated."""
    return dep.kind.startswith("http")


def is_automatic(dep: DependencyFact) -> tuple[bool, str]:
    """Whether the codemod rewrites a dependency at its call site, and what it becomes."""
    if is_migrated(dep):
        return False, "already an HTTP call to the other instance"
    if dep.kind not in AUTOMATIC_KINDS:
        return False, REWRITES.get(dep.kind, f"custom dependency {dep.operator}: replace by an HTTP check by hand")
    return True, REWRITES[dep.kind]


@dataclass(frozen=True)
class _Index:
    """What every plan looks up, grouped by team once (plans are built for every team)."""

    dags: dict[str, list[DagFact]]
    files: dict[str, set[str]]
    holding: dict[str | None, list[TeamLink]]  # links whose dependency a team's code holds (None: no team)
    named: dict[str, list[TeamLink]]  # cross-team links that name a team's DAGs
    uses: dict[str, dict[tuple[str, str], set[str]]]  # team -> resource -> its DAGs using it
    users: dict[tuple[str, str], set[str]]  # resource -> teams using it
    access: dict[str, dict[tuple[str, str], set[str]]]  # team -> cloud resource -> how its DAGs use it


def _index(facts: RepoFacts, ownership: OwnershipResult, graph: MeshGraph) -> _Index:
    index = _Index(defaultdict(list), defaultdict(set), defaultdict(list), defaultdict(list), defaultdict(lambda: defaultdict(set)), defaultdict(set), defaultdict(lambda: defaultdict(set)))
    for dag in facts.dags:
        team = ownership.of(dag).team
        if team:
            index.dags[team].append(dag)
            index.files[team].add(dag.span.path)
    for link in graph.links:
        index.holding[link.holder_team].append(link)
        if link.cross_team and link.other_team is not None:  # a cross-team link has both teams
            index.named[link.other_team].append(link)
    for use in facts.resources:
        if not use.dag:
            continue
        team = ownership.team_of_id(use.dag)
        if team:
            index.uses[team][(use.kind, use.name)].add(use.dag)
            index.users[(use.kind, use.name)].add(team)
            if is_cloud(use.kind):
                index.access[team][(use.kind, use.name)].add(use.access or "unknown")
    return index


def build_plans(facts: RepoFacts, config: MeshConfig, ownership: OwnershipResult, graph: MeshGraph) -> list[SplitPlan]:
    index = _index(facts, ownership, graph)
    groups = {team: group for group in graph.groups for team in group}
    unresolved_by_file: dict[str, list] = defaultdict(list)
    for item in facts.unresolved:
        unresolved_by_file[item.span.path].append(item)
    plans = []
    for team in ownership.teams:
        instance, placeholder = instance_for(team, config)
        configured = config.team(team)
        plans.append(
            SplitPlan(
                team=team,
                description=configured.description if configured else "",
                instance=instance,
                instance_is_placeholder=placeholder,
                wave=graph.wave_of(team),
                moves_with=tuple(t for t in groups.get(team, ()) if t != team),
                dags=tuple(_moving(dag, ownership) for dag in sorted(index.dags[team], key=lambda d: d.dag_id)),
                inbound=tuple(_planned(link, inbound=True) for link in index.named[team]),
                outbound=tuple(_planned(link, inbound=False) for link in index.holding[team] if link.cross_team),
                resources=_needs(index, team, kinds=("connection", "variable", "pool")) + _cloud_needs(index, team),
                modules=_needs(index, team, kinds=("module",)),
                manual=_manual(index, graph, team, [u for f in sorted(index.files[team]) for u in unresolved_by_file[f]]),
            )
        )
    return plans


def _moving(dag: DagFact, ownership: OwnershipResult) -> MovingDag:
    owned = ownership.of(dag)
    overruled = tuple(f"{c.team} ({c.source}: {c.reason})" for c in owned.overruled)
    return MovingDag(dag.dag_id, dag.span, owned.source, owned.reason, overruled)


def _planned(link: TeamLink, inbound: bool) -> PlannedDependency:
    dep = link.dependency
    automatic, rewrite = is_automatic(dep)
    if inbound:
        return PlannedDependency(dep, link.other_dag, dep.dag, link.holder_team, rewrite, automatic)
    return PlannedDependency(dep, dep.dag, link.other_dag, link.other_team, rewrite, automatic)


def _needs(index: _Index, team: str, kinds: tuple[str, ...]) -> tuple[ResourceNeed, ...]:
    return tuple(
        ResourceNeed(kind, name, tuple(sorted(dags)), tuple(sorted(index.users[(kind, name)] - {team})))
        for (kind, name), dags in sorted(index.uses[team].items())
        if kind in kinds
    )


def _cloud_needs(index: _Index, team: str) -> tuple[ResourceNeed, ...]:
    """Cloud resources the team's instance must reach, with how (see identity.py for the grants)."""
    needs = []
    for (kind, name), accesses in sorted(index.access[team].items()):
        if accesses & {"impersonate", "delegate"}:
            if "impersonate" not in accesses:
                continue  # reached through another account of the chain, not by the instance itself
            access = "impersonate"
        else:
            access = "/".join(a for a in ("read", "write") if a in accesses) or "unknown"
        dags = tuple(sorted(index.uses[team][(kind, name)]))
        needs.append(ResourceNeed(kind, name, dags, tuple(sorted(index.users[(kind, name)] - {team})), access))
    return tuple(needs)


def _manual(index: _Index, graph: MeshGraph, team: str, unresolved: list) -> tuple[ManualItem, ...]:
    files = index.files[team]
    items: list[ManualItem] = []
    dangling = set(graph.dangling)
    for link in index.holding[team]:
        dep = link.dependency
        if link.cross_team and not is_migrated(dep):
            automatic, why = is_automatic(dep)
            if not automatic:
                items.append(ManualItem(f"{dep.kind} {dep.task_id or ''} on {link.other_dag} ({link.other_team})".replace("  ", " "), dep.span, why))
        elif link in dangling:
            items.append(ManualItem(f"{dep.kind} {dep.task_id or ''} on {link.other_dag}".replace("  ", " "), dep.span, "names a DAG that no analyzed file defines"))
    for item in unresolved:
        items.append(ManualItem(f"unresolved {item.what}: {item.expression}", item.span, item.reason))
    for dag_id, paths in graph.duplicates.items():
        if any(p in files for p in paths):
            items.append(ManualItem(f"duplicate dag_id {dag_id}", SourceSpan(paths[0], 0), "defined in " + ", ".join(paths)))
    return tuple(sorted(set(items), key=lambda i: (i.span, i.what)))
