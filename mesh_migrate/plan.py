"""Split plans: for each team, what moves, what it must provide and what it must rewrite."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .config import Instance, MeshConfig
from .facts import DagFact, DependencyFact, RepoFacts, SourceSpan, is_cloud
from .graph import MeshGraph, TeamLink
from .kinds import DependencyKind
from .ownership import OwnershipResult
from .rulepack import RulePack

PLACEHOLDER_CONN = "airflow_{team}"


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
    kind: DependencyKind  # what the dependency's kind means (its label, where it is held)


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


def is_migrated(dep: DependencyFact, rules: RulePack) -> bool:
    """A kind the rule pack marks migrated (the codemod's own HTTP calls) already crosses instances."""
    return rules.kind(dep.kind).migrated


def is_automatic(dep: DependencyFact, rules: RulePack) -> tuple[bool, str]:
    """Whether the codemod rewrites a dependency at its call site, and what it becomes."""
    kind = rules.kind(dep.kind)
    if not kind.automatic:
        return False, kind.outcome(dep.operator)
    if dep.via is not None and dep.via.path != dep.span.path:
        return False, f"built by a helper in {dep.via}: rewrite the helper or the call by hand"
    if not dep.direct:
        return False, "built through functools.partial or a subclass: rewrite by hand"
    if kind.rewrite == "sensor":  # the sensor rewrite translates only a lambda's date shift
        fn = dep.argument("execution_date_fn")
        if fn is not None and not fn.startswith("lambda"):
            return False, f"execution_date_fn={fn} is not a simple lambda: translate the date by hand"
    return True, kind.outcome(dep.operator)


def manual_label(dep: DependencyFact, kind: DependencyKind) -> str:
    """How manual work names a dependency: its kind, and the task that holds it."""
    return f"{kind.label} {dep.task_id}" if dep.task_id and kind.held_by == "task" else kind.label


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


def build_plans(facts: RepoFacts, config: MeshConfig, rules: RulePack, ownership: OwnershipResult, graph: MeshGraph) -> list[SplitPlan]:
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
                inbound=tuple(_planned(link, rules, inbound=True) for link in index.named[team]),
                outbound=tuple(_planned(link, rules, inbound=False) for link in index.holding[team] if link.cross_team),
                resources=_needs(index, team, kinds=("connection", "variable", "pool")) + _cloud_needs(index, team),
                modules=_needs(index, team, kinds=("module",)),
                manual=_manual(index, graph, rules, team, [u for f in sorted(index.files[team]) for u in unresolved_by_file[f]]),
            )
        )
    return plans


def _moving(dag: DagFact, ownership: OwnershipResult) -> MovingDag:
    owned = ownership.of(dag)
    overruled = tuple(f"{c.team} ({c.source}: {c.reason})" for c in owned.overruled)
    return MovingDag(dag.dag_id, dag.span, owned.source, owned.reason, overruled)


def _planned(link: TeamLink, rules: RulePack, inbound: bool) -> PlannedDependency:
    dep = link.dependency
    automatic, rewrite = is_automatic(dep, rules)
    kind = rules.kind(dep.kind)
    if inbound:
        return PlannedDependency(dep, link.other_dag, dep.dag, link.holder_team, rewrite, automatic, kind)
    return PlannedDependency(dep, dep.dag, link.other_dag, link.other_team, rewrite, automatic, kind)


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


def _manual(index: _Index, graph: MeshGraph, rules: RulePack, team: str, unresolved: list) -> tuple[ManualItem, ...]:
    files = index.files[team]
    items: list[ManualItem] = []
    dangling = set(graph.dangling)
    for link in index.holding[team]:
        dep = link.dependency
        kind = rules.kind(dep.kind)
        if link.cross_team and not kind.migrated:
            automatic, why = is_automatic(dep, rules)
            if not automatic:
                items.append(ManualItem(f"{kind.label} {dep.task_id or ''} on {link.other_dag} ({link.other_team})".replace("  ", " "), dep.span, why))
        elif link in dangling:
            items.append(ManualItem(f"{kind.label} {dep.task_id or ''} on {link.other_dag}".replace("  ", " "), dep.span, "names a DAG that no analyzed file defines"))
    for item in unresolved:
        items.append(ManualItem(f"unresolved {item.what}: {item.expression}", item.span, item.reason))
    for dag_id, paths in graph.duplicates.items():
        if any(p in files for p in paths):
            items.append(ManualItem(f"duplicate dag_id {dag_id}", SourceSpan(paths[0], 0), "defined in " + ", ".join(paths)))
    return tuple(sorted(set(items), key=lambda i: (i.span, i.what)))
