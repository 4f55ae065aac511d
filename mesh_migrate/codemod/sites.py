"""What the codemod changes for a team, and what it leaves as manual work (and why).

Two kinds of change:
- a *reference*: a cross-team sensor or trigger is built from Airflow's class somewhere (in
  the DAG file, a shared helper, a `functools.partial`, a subclass); the file holding that
  reference is pointed at the helper module's drop-in class, which routes at run time;
- a *call site*, keyed by its whole span: an ExternalTaskMarker (commented, or replaced with
  --remove-markers), and a task producing a dataset that another instance consumes (it gets
  the hook that posts the dataset event there).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..analysis import Analysis
from ..config import MONOLITH
from ..facts import DependencyFact, SourceSpan
from ..plan import manual_label
from ..rewrite_rules import CLASSES, DATASET_HOOK, MARKER, ReplacedClass, RewriteRules
from ..rulepack import RulePack
from .reach import Reach
from .registry import instance_name


@dataclass(frozen=True)
class CallSite:
    """One call rewritten in place."""

    team: str  # the team whose branch gets the change
    span: SourceSpan  # the whole call, as the analysis reports it (columns in UTF-8 bytes)
    rewrite: str  # the rewrite applied (rewrite_rules.MARKER or DATASET_HOOK), named by the kind
    dependencies: tuple[DependencyFact, ...]
    other_teams: tuple[str, ...]

    @property
    def path(self) -> str:
        return self.span.path

    @property
    def first(self) -> DependencyFact:
        return self.dependencies[0]


@dataclass(frozen=True)
class ReferenceNeed:
    """A cross-team sensor or trigger, the drop-in class it needs, and the files that may
    hold the reference to Airflow's class (the file that builds it first)."""

    team: str
    dependency: DependencyFact
    other_dag: str
    other_team: str
    replaced: ReplacedClass
    files: tuple[str, ...]
    # Where else to look when no file of `files` names the class (a helper given the class
    # by its caller): the calling file and what it imports.
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manual:
    team: str  # the team whose code holds it
    what: str
    span: SourceSpan
    why: str
    task_id: str | None = None


@dataclass(frozen=True)
class Selection:
    calls: tuple[CallSite, ...]
    needs: tuple[ReferenceNeed, ...]
    manual: tuple[Manual, ...]


def manual_for(rules: RulePack, team: str, dep: DependencyFact, other_dag: str, other_team: str | None, why: str) -> Manual:
    label = manual_label(dep, rules.kind(dep.kind))
    return Manual(team, f"{label} on {other_dag} ({other_team})", dep.span, why, dep.task_id)


def select(analysis: Analysis, team: str, rules: RewriteRules, reach: Reach) -> Selection:
    """TEAM's changes: the references and call sites to rewrite, and the manual work left."""
    calls: list[CallSite] = []
    needs: list[ReferenceNeed] = []
    manual: list[Manual] = []
    markers: dict[SourceSpan, list] = defaultdict(list)
    pack = analysis.rules
    defined = {d.dag_id for d in analysis.facts.dags}
    for link in analysis.graph.links:
        dep = link.dependency
        kind = pack.kind(dep.kind)
        if link.holder_team != team or kind.migrated or kind.rewrite == DATASET_HOOK:
            continue  # a dataset is changed at its producer, for the producing team (_dataset_sites)
        other_team = link.other_team
        if link.cross_team is None and kind.rewrite != MARKER:  # the other side has no team
            other_team, why = _teamless(analysis, defined, link, rules)
            if other_team is None:
                manual.append(manual_for(pack, team, dep, link.other_dag or "?", "no team", why))
                continue
        elif not link.cross_team:
            continue
        if kind.rewrite == MARKER:
            if dep.via is not None:
                manual.append(manual_for(pack, team, dep, link.other_dag, link.other_team, f"built by a helper in {dep.via}: comment or remove the marker there by hand"))
            else:
                markers[dep.span].append(link)
            continue
        replaced = rules.replacement_of(dep.operator) if kind.rewrite == CLASSES else None
        if replaced is None:
            manual.append(manual_for(pack, team, dep, link.other_dag, link.other_team, _no_drop_in(dep, kind.rewrite, rules)))
            continue
        assert other_team is not None  # a cross-team link has both teams
        start = dep.via.path if dep.via is not None else dep.span.path
        files = (start,) if dep.direct else reach.closure(start)
        fallback = tuple(f for f in reach.closure(dep.span.path) if f not in files) if not dep.direct and start != dep.span.path else ()
        needs.append(ReferenceNeed(team, dep, link.other_dag, other_team, replaced, files, fallback))
    for span, links in sorted(markers.items()):
        others = tuple(sorted({l.other_team for l in links if l.other_team}))
        calls.append(CallSite(team, _whole(span, links), MARKER, tuple(l.dependency for l in links), others))
    calls += _dataset_sites(analysis, team)
    return Selection(tuple(calls), tuple(needs), tuple(manual))


def _teamless(analysis: Analysis, defined: set[str], link, rules: RewriteRules) -> tuple[str | None, str]:
    """Where the DAG of no team on the other side runs: the monolith, as the registry says,
    when there is one; else None and why that is manual work."""
    dag = link.other_dag
    replaced = rules.replacement_of(link.dependency.operator)
    what = f"{rules.helper_module}.{replaced.name}" if replaced is not None else f"a class of {rules.helper_module}"
    via = link.dependency.via
    if via is not None:  # a helper or subclass builds it: that is the file to change
        what += f" where {via.path}:{via.line} builds it"
    if not dag:
        return None, f"the DAG id is known only at run time: if it can be another instance's DAG, the task must use {what} (by hand; it routes by the rendered id)"
    if dag not in defined:
        return None, f"no file defines {dag}, so the registry cannot route it: if another instance runs it, the task must use {what} with http_conn_id= that instance's connection (by hand; {rules.registry} is rewritten on each run)"
    if analysis.config.monolith is None:
        return None, f"{dag} has no team: give it one in mesh.yaml, or declare the monolith (mesh.yaml monolith:) that keeps running it"
    return MONOLITH, ""


def _whole(span: SourceSpan, links: list) -> SourceSpan:
    """The span with its end, which equal spans of other links may lack."""
    return max((l.dependency.span for l in links), key=lambda s: (s.end_line, s.end_column), default=span)


def _no_drop_in(dep: DependencyFact, rewrite: str | None, rules: RewriteRules) -> str:
    if rewrite == CLASSES:
        return f"{dep.operator} has no drop-in class in {rules.helper_module}: add it to rewrites.classes of the rule pack, or rewrite the call by hand"
    return f"custom dependency {dep.operator}: {rules.helper_module} has no drop-in class for it; replace it by hand"


def _dataset_sites(analysis: Analysis, team: str) -> list[CallSite]:
    """TEAM's tasks producing a dataset that a DAG on another instance consumes."""
    config, ownership = analysis.config, analysis.ownership
    here = instance_name(team, config)
    producers: dict[SourceSpan, list] = defaultdict(list)
    for link in analysis.graph.links:
        dep = link.dependency
        if analysis.rules.kind(dep.kind).rewrite != DATASET_HOOK or dep.via is None or not link.cross_team or ownership.team_of_id(dep.source) != team:
            continue
        if instance_name(link.holder_team, config) != here:
            producers[dep.via].append(link)
    return [
        CallSite(team, _producer_span(links), DATASET_HOOK, tuple(l.dependency for l in links), tuple(sorted({l.holder_team for l in links if l.holder_team})))
        for _, links in sorted(producers.items())
    ]


def _producer_span(links: list) -> SourceSpan:
    spans = [l.dependency.via for l in links if l.dependency.via is not None]
    return max(spans, key=lambda s: (s.end_line, s.end_column))
