"""Cloud identity plans: what each team's own instance must be allowed to reach.

In the monolith one identity reaches everything; in the mesh each team's instance runs as
its own service account and gets exactly what its DAGs use: the accounts they impersonate,
the buckets, datasets, instances and secrets they read or write. A resource is **owned** by
the team whose DAGs write it (several writing teams: its ownership is to settle; nobody
writing it: it comes from outside the monolith and has no owner here).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .config import MeshConfig
from .facts import RepoFacts, ResourceUse, SourceSpan, is_cloud
from .names import file_name
from .ownership import OwnershipResult

SERVICE_ACCOUNT = "gcp_service_account"


@dataclass(frozen=True)
class CloudNeed:
    kind: str
    name: str
    access: str  # "read" | "write" | "unknown" (no call says: read is assumed)
    dags: tuple[str, ...]
    places: tuple[SourceSpan, ...]
    direct: bool  # some call reaches it as the instance itself, not through an impersonated account
    through: tuple[str, ...]  # the impersonated accounts other calls reach it through
    owners: tuple[str, ...]  # the teams whose DAGs write it
    shared_with: tuple[str, ...]  # other teams using it


@dataclass(frozen=True)
class IdentityPlan:
    team: str
    slug: str
    service_account: str
    project: str
    placeholder: bool  # the account comes from the default template: set `identity` in mesh.yaml
    impersonate: tuple[CloudNeed, ...]  # accounts the instance must be allowed to impersonate
    resources: tuple[CloudNeed, ...]  # everything else, by kind and name

    @property
    def shared(self) -> tuple[CloudNeed, ...]:
        return tuple(n for n in (*self.impersonate, *self.resources) if n.shared_with)


def writers(facts: RepoFacts, ownership: OwnershipResult) -> dict[tuple[str, str], tuple[str, ...]]:
    """(kind, name) -> the teams whose DAGs write it: its owners."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    team_of = ownership.teams_by_id().get
    for use in facts.resources:
        team = team_of(use.dag) if use.dag else None
        if team and use.access == "write" and is_cloud(use.kind):
            found[(use.kind, use.name)].add(team)
    return {key: tuple(sorted(teams)) for key, teams in found.items()}


def build_identities(facts: RepoFacts, config: MeshConfig, ownership: OwnershipResult) -> list[IdentityPlan]:
    owners = writers(facts, ownership)
    by_team: dict[str, dict[tuple[str, str], list[ResourceUse]]] = defaultdict(lambda: defaultdict(list))
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    team_of = ownership.teams_by_id().get
    for use in facts.resources:
        team = team_of(use.dag) if use.dag else None
        if team and is_cloud(use.kind):
            by_team[team][(use.kind, use.name)].append(use)
            users[(use.kind, use.name)].add(team)
    plans = []
    for team in ownership.teams:
        slug = file_name(team)
        needs = [_need(key, uses, owners.get(key, ()), users[key] - {team}) for key, uses in sorted(by_team[team].items())]
        plans.append(
            IdentityPlan(
                team=team,
                slug=slug,
                service_account=config.identity.account(slug),
                project=config.identity.project,
                placeholder=not config.identity.configured,
                impersonate=tuple(n for n in needs if n.kind == SERVICE_ACCOUNT and n.access == "impersonate"),
                resources=tuple(n for n in needs if n.kind != SERVICE_ACCOUNT),
            )
        )
    return plans


def _need(key: tuple[str, str], uses: list[ResourceUse], owners: tuple[str, ...], others: set[str]) -> CloudNeed:
    kind, name = key
    accesses = {u.access for u in uses}
    if kind == SERVICE_ACCOUNT:  # the first of a chain is impersonated by the instance itself
        access = "impersonate" if "impersonate" in accesses else "delegate"
    else:
        access = "write" if "write" in accesses else "read" if "read" in accesses else "unknown"
    return CloudNeed(
        kind=kind,
        name=name,
        access=access,
        dags=tuple(sorted({u.dag for u in uses if u.dag})),
        places=tuple(sorted({u.span for u in uses})),
        direct=any(u.identity is None for u in uses),
        through=tuple(sorted({u.identity for u in uses if u.identity})),
        owners=owners,
        shared_with=tuple(sorted(others)),
    )
