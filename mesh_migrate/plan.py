"""Split plans: for each team, what moves, what it must provide and what it must rewrite."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from .access import Grant, access_grants, granted_by, granted_to
from .config import Instance, MeshConfig
from .facts import DagFact, DependencyFact, RepoFacts, SourceSpan, is_cloud
from .graph import MeshGraph, TeamLink
from .kinds import DependencyKind
from .overview import group_links, instance_for, outbound_links, owned_dags
from .ownership import OwnershipResult
from .rulepack import RulePack


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


# What a calling instance needs besides the connection: the provider of the `http`
# connection type and of HttpHook, which the generated helper module calls through.
HTTP_PROVIDER = "apache-airflow-providers-http"

# What the called instance must allow so that a service user's password reaches its REST API:
# (setting, why). Airflow 2's default `[api] auth_backends` is the session backend only (the
# web UI's login cookie), which a connection cannot use.
BASIC_AUTH_BACKENDS = "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth,airflow.api.auth.backend.session"
UPSTREAM_API_AUTH: dict[int, tuple[str | None, str]] = {
    2: (f"[api] auth_backends = {BASIC_AUTH_BACKENDS}", "env AIRFLOW__API__AUTH_BACKENDS; the default, session only, refuses a connection's login"),
    3: (None, "nothing to set: the caller trades the login and password for a JWT at POST /auth/token and renews it on 401"),
}


@dataclass(frozen=True)
class OutboundConnection:
    """An Airflow connection our instance needs to reach another team's instance."""

    team: str  # the team whose instance it reaches
    conn_id: str
    url: str | None  # None until mesh.yaml gives that team's instance a url
    api_version: int  # the Airflow major version of that instance (mesh.yaml)
    login: str  # the service user that instance creates for us
    role: str  # the role it gives that user (DIR/access/<team>.json)
    placeholder: bool  # the connection id is a placeholder: mesh.yaml names none
    grant: Grant  # what we do there

    @property
    def env_var(self) -> str:
        return "AIRFLOW_CONN_" + self.conn_id.upper()

    def env_value(self) -> str:
        """The connection in the JSON form `AIRFLOW_CONN_<ID>` takes, the password a placeholder."""
        host = self.url or f"<URL of the {self.team} instance>"
        password = f"<password of {self.login} on the {self.team} instance>"
        return json.dumps({"conn_type": "http", "host": host, "login": self.login, "password": password})

    @property
    def upstream_auth(self) -> tuple[str | None, str]:
        """The setting the called instance needs (None: none), and why."""
        return UPSTREAM_API_AUTH.get(self.api_version, UPSTREAM_API_AUTH[2])


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
    grants: tuple[Grant, ...] = ()  # roles our instance gives the teams that call it (access/<team>.json)
    connections: tuple[OutboundConnection, ...] = ()  # connections we create to call other instances


def is_migrated(dep: DependencyFact, rules: RulePack) -> bool:
    """A kind the rule pack marks migrated (the codemod's own HTTP calls) already crosses instances."""
    return rules.kind(dep.kind).migrated


def is_automatic(dep: DependencyFact, rules: RulePack) -> tuple[bool, str]:
    """Whether the codemod migrates a dependency (wherever it is built), and what it becomes."""
    kind = rules.kind(dep.kind)
    return kind.automatic, kind.outcome(dep.operator)


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
    for owner, dags in owned_dags(facts, ownership).items():
        index.dags[owner] = dags
        index.files[owner] = {dag.span.path for dag in dags}
    group_links(graph, index.holding, index.named)
    team_of = ownership.teams_by_id().get
    uses, users, access = index.uses, index.users, index.access
    for use in facts.resources:
        if not use.dag:
            continue
        team = team_of(use.dag)
        if team:
            resource = (use.kind, use.name)
            uses[team][resource].add(use.dag)
            users[resource].add(team)
            if is_cloud(use.kind):
                access[team][resource].add(use.access or "unknown")
    return index


def build_plans(facts: RepoFacts, config: MeshConfig, rules: RulePack, ownership: OwnershipResult, graph: MeshGraph) -> list[SplitPlan]:
    index = _index(facts, ownership, graph)
    groups = {team: group for group in graph.groups for team in group}
    unresolved_by_file: dict[str, list] = defaultdict(list)
    for item in facts.unresolved:
        unresolved_by_file[item.span.path].append(item)
    grants = access_grants(graph.links, (d.dag_id for d in facts.dags), rules.kind)
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
                outbound=tuple(_planned(link, rules, inbound=False) for link in outbound_links(index.holding, team)),
                resources=_needs(index, team, kinds=("connection", "variable", "pool")) + _cloud_needs(index, team),
                modules=_needs(index, team, kinds=("module",)),
                manual=_manual(index, graph, rules, team, [u for f in sorted(index.files[team]) for u in unresolved_by_file[f]]),
                grants=granted_by(grants, team),
                connections=tuple(_connection(grant, config) for grant in granted_to(grants, team)),
            )
        )
    return plans


def _connection(grant: Grant, config: MeshConfig) -> OutboundConnection:
    instance, placeholder = instance_for(grant.instance_team, config)
    assert instance.http_conn_id is not None  # instance_for always names one
    return OutboundConnection(grant.instance_team, instance.http_conn_id, instance.url, instance.api_version, grant.user, grant.role, placeholder, grant)


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
