"""Which calls of a team the codemod rewrites, and which it leaves as manual work (and why)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..analysis import Analysis
from ..config import Instance
from ..facts import DependencyFact, SourceSpan
from ..plan import instance_for, is_automatic, is_migrated, manual_label


@dataclass(frozen=True)
class Site:
    """One call in the team's code that creates cross-team dependencies (one per loop item)."""

    team: str  # the team whose code holds the call
    path: str
    line: int
    column: int  # the call's start, in UTF-8 bytes as the analysis reports it
    kind: str
    dependencies: tuple[DependencyFact, ...]
    other_team: str
    instance: Instance  # the other team's instance, which the rewritten call reaches
    rewrite: str  # the rewrite the rule pack names for the kind (rules/kinds.yaml)

    @property
    def first(self) -> DependencyFact:
        return self.dependencies[0]


@dataclass(frozen=True)
class Manual:
    team: str  # the team whose code holds it
    what: str
    span: SourceSpan
    why: str
    task_id: str | None = None


def manual_for(analysis: Analysis, team: str, dep: DependencyFact, other_dag: str, other_team: str | None, why: str) -> Manual:
    label = manual_label(dep, analysis.rules.kind(dep.kind))
    return Manual(team, f"{label} on {other_dag} ({other_team})", dep.span, why, dep.task_id)


def team_files(analysis: Analysis, team: str) -> set[str]:
    return {dag.span.path for dag in analysis.facts.dags if analysis.ownership.of(dag).team == team}


def select_sites(analysis: Analysis, team: str) -> tuple[list[Site], list[Manual]]:
    """The calls of TEAM to rewrite, and the cross-team ones left to do by hand (with why)."""
    owned = team_files(analysis, team)
    by_place: dict[tuple[str, int, int], list] = defaultdict(list)
    for link in analysis.graph.links:
        if link.holder_team == team:
            span = link.dependency.span
            by_place[(span.path, span.line, span.column)].append(link)
    sites: list[Site] = []
    manual: list[Manual] = []
    for (path, line, column), links in sorted(by_place.items()):
        crossing = [l for l in links if l.cross_team and not is_migrated(l.dependency, analysis.rules)]
        if not crossing:
            continue
        first = crossing[0].dependency
        kind = analysis.rules.kind(first.kind)
        why = None
        if kind.rewrite is None:
            why = is_automatic(first, analysis.rules)[1]
        elif kind.automatic:  # a rewrite that only marks the call (markers) applies whatever built it
            why = next((why for ok, why in (is_automatic(l.dependency, analysis.rules) for l in crossing) if not ok), None)
        teams = {l.other_team for l in crossing}
        if why is None and (len(crossing) != len(links) or len(teams) != 1):
            why = "one call creates dependencies within the team and on other teams, or on several teams: split it by hand"
        if why is None and path not in owned:
            why = "the file defines no DAG of this team"
        if why is not None:
            manual += [manual_for(analysis, team, l.dependency, l.other_dag, l.other_team, why) for l in crossing]
            continue
        other = teams.pop()
        instance, _ = instance_for(other, analysis.config)
        sites.append(Site(team, path, line, column, first.kind, tuple(l.dependency for l in crossing), other, instance, kind.rewrite or ""))
    return sites, manual
