"""Each team's plan by its size and place (`team_overviews`), and what that and the plans
both need: the team's instance, its DAGs, the links its code holds and those naming it.

Apart from `plan.py` so that the analysis document, which lists only overviews, never
imports the plans' model (a tenth of a cold run's time after extraction)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .config import Instance, MeshConfig
from .facts import DagFact, RepoFacts
from .graph import MeshGraph, TeamLink
from .ownership import OwnershipResult

PLACEHOLDER_CONN = "airflow_{team}"


@dataclass(frozen=True)
class TeamOverview:
    """A team's plan by its size and place, without its contents: what the analysis
    document lists, for a fraction of the cost of the plans."""

    team: str
    dags: int  # len(SplitPlan.dags)
    inbound: int  # len(SplitPlan.inbound)
    outbound: int  # len(SplitPlan.outbound)
    wave: int | None
    instance: Instance


def instance_for(team: str, config: MeshConfig) -> tuple[Instance, bool]:
    configured = config.team(team)
    if configured and configured.instance.http_conn_id:
        return configured.instance, False
    base = configured.instance if configured else Instance()
    return Instance(url=base.url, http_conn_id=PLACEHOLDER_CONN.format(team=team), api_version=base.api_version), True


def owned_dags(facts: RepoFacts, ownership: OwnershipResult) -> dict[str, list[DagFact]]:
    """The DAGs each team owns, in the facts' order."""
    owned: dict[str, list[DagFact]] = defaultdict(list)
    for dag in facts.dags:
        team = ownership.of(dag).team
        if team:
            owned[team].append(dag)
    return owned


def outbound_links(holding: dict[str | None, list[TeamLink]], team: str) -> list[TeamLink]:
    """The links a team's code holds that wait on or trigger another team."""
    return [link for link in holding[team] if link.cross_team]


def group_links(graph: MeshGraph, holding: dict[str | None, list[TeamLink]], named: dict[str, list[TeamLink]]) -> None:
    """Each link under the team whose code holds it, and a cross-team one under the team it names."""
    for link in graph.links:
        holding[link.holder_team].append(link)
        if link.cross_team and link.other_team is not None:  # a cross-team link has both teams
            named[link.other_team].append(link)


def team_overviews(facts: RepoFacts, config: MeshConfig, ownership: OwnershipResult, graph: MeshGraph) -> list[TeamOverview]:
    """The size of each team's plan, counted as `build_plans` selects its contents."""
    owned = owned_dags(facts, ownership)
    holding: dict[str | None, list[TeamLink]] = defaultdict(list)
    named: dict[str, list[TeamLink]] = defaultdict(list)
    group_links(graph, holding, named)
    return [
        TeamOverview(team, len(owned.get(team, ())), len(named[team]), len(outbound_links(holding, team)), graph.wave_of(team), instance_for(team, config)[0])
        for team in ownership.teams
    ]
