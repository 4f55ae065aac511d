"""Findings: what `mesh-migrate check` reports, collected from an Analysis.

A finding is keyed by (code, file, fingerprint); the fingerprint hashes what the finding
is about (DAG, task, the other DAG), never its line, so a baseline survives edits above it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..analysis import Analysis
from ..codes import CODES
from ..codemod.helper_module import helper_path, importers
from ..codemod.templates import helper_module_name
from ..facts import DependencyFact
from ..facts import is_cloud
from ..link import names_unknown_dag
from ..graph import TeamLink
from ..identity import SERVICE_ACCOUNT, writers
from ..plan import is_automatic, is_migrated
from ..rewrite_rules import DATASET_HOOK
from ..rulepack import RulePack
from ..yamlio import ConfigError


@dataclass(frozen=True)
class Finding:
    code: str
    file: str  # posix, relative to the analyzed root
    line: int
    message: str
    team: str | None  # the team that has to act
    fingerprint: str
    suppressed: bool = False  # by a `# mesh: ignore` comment
    baselined: bool = False  # accepted by the baseline
    level: str = ""  # the severity the rule pack gives a dependency kind; empty: the code's

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.file, self.fingerprint)

    @property
    def title(self) -> str:
        return CODES[self.code].title

    @property
    def severity(self) -> str:
        return self.level or CODES[self.code].severity

    @property
    def failing(self) -> bool:
        return not (self.suppressed or self.baselined)


def fingerprint(*parts: str | None) -> str:
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()[:16]


def sort_key(finding: Finding) -> tuple:
    return (finding.file, finding.line, finding.code, finding.message)


def collect(analysis: Analysis, repo: str = ".") -> tuple[Finding, ...]:
    """Every finding of the repository, unsuppressed; REPO is how the user names its root."""
    found = [
        *_dependencies(analysis, repo),
        *_unowned(analysis),
        *_cycles(analysis),
        *_dangling(analysis),
        *_duplicates(analysis),
        *_cloud_resources(analysis),
    ]
    return tuple(sorted(found, key=sort_key))


def dependency_fingerprint(dep: DependencyFact, other_dag: str) -> str:
    """What makes a dependency this one: not where it is written."""
    return fingerprint(dep.kind, dep.dag, dep.task_group, dep.task_id, other_dag, dep.dataset)


def _describe(link: TeamLink, rules: RulePack) -> str:
    """The kind's `check.message` of the rule pack, filled in."""
    dep = link.dependency
    return rules.kind(dep.kind).describe(
        task=f" {dep.task_id!r}" if dep.task_id else "",
        holder=f"DAG {dep.dag!r} ({link.holder_team})",
        theirs=f"DAG {link.other_dag!r}" + (f" of team {link.other_team}" if link.other_team else ""),
        operator=dep.operator,
        dataset=repr(dep.dataset),
    )


def _dependencies(analysis: Analysis, repo: str) -> Iterator[Finding]:
    for link in analysis.graph.links:
        dep = link.dependency
        kind = analysis.rules.kind(dep.kind)
        if not link.cross_team or kind.migrated:
            continue
        automatic, why = is_automatic(dep, analysis.rules)
        fixer = link.other_team if kind.rewrite == DATASET_HOOK else link.holder_team  # the producer posts the events
        fix = f"mesh-migrate codemod {repo} --team {fixer} --diff rewrites it" if automatic else f"migrate it by hand: {why}"
        yield Finding(
            kind.code,
            dep.span.path,
            dep.span.line,
            f"{_describe(link, analysis.rules)}; {fix}",
            link.holder_team,
            dependency_fingerprint(dep, link.other_dag),
            level=kind.severity,
        )


def _unowned(analysis: Analysis) -> Iterator[Finding]:
    for dag in analysis.facts.dags:
        owned = analysis.ownership.of(dag)
        if owned.team is not None:
            continue
        hint = f" (its neighbours suggest {owned.suggested}: {owned.suggestion_reason})" if owned.suggested else ""
        message = f"DAG {dag.dag_id!r} has no team{hint}; name one in mesh.yaml (paths or dag_ids) or CODEOWNERS"
        yield Finding("MM201", dag.span.path, dag.span.line, message, None, fingerprint(dag.dag_id))


def _cycles(analysis: Analysis) -> Iterator[Finding]:
    """One finding per team cycle, at the first unmigrated dependency that closes it.

    An edge whose dependencies are all migrated already no longer ties the two teams'
    moves together, so a cycle through it is not reported.
    """
    team_of = analysis.ownership.team_of_id
    by_edge: dict[tuple[str, str], list[DependencyFact]] = {}
    for dep in analysis.facts.dependencies:
        if not is_migrated(dep, analysis.rules):
            by_edge.setdefault((team_of(dep.source) or "", team_of(dep.target) or ""), []).append(dep)
    for cycle in analysis.graph.cycles:
        edges = list(zip(cycle, cycle[1:] + cycle[:1]))
        if not all(by_edge.get(edge) for edge in edges):
            continue
        deps = [dep for edge in edges for dep in by_edge[edge]]
        first = min(deps, key=lambda d: (d.span, d.kind, d.dag, d.task_id or ""))
        loop = " -> ".join(cycle + cycle[:1])
        task = f" {first.task_id!r}" if first.task_id else ""
        message = (
            f"teams {loop} wait on each other ({len(deps)} dependencies); this {analysis.rules.kind(first.kind).label}{task} in DAG {first.dag!r} is one of them: "
            "break one dependency of the cycle, or migrate the teams together"
        )
        yield Finding("MM301", first.span.path, first.span.line, message, team_of(first.dag), fingerprint(*cycle))


def _dangling(analysis: Analysis) -> Iterator[Finding]:
    for link in analysis.graph.dangling:
        dep = link.dependency
        if is_migrated(dep, analysis.rules):
            continue  # the codemod's HTTP calls name DAGs that live on other instances
        task = f" {dep.task_id!r}" if dep.task_id else ""
        message = f"{analysis.rules.kind(dep.kind).label}{task} in DAG {dep.dag!r} {names_unknown_dag(link.other_dag)}"
        yield Finding("MM401", dep.span.path, dep.span.line, message, link.holder_team, dependency_fingerprint(dep, link.other_dag))


def _duplicates(analysis: Analysis) -> Iterator[Finding]:
    duplicates = analysis.graph.duplicates
    for dag in analysis.facts.dags:
        if dag.dag_id not in duplicates:
            continue
        others = ", ".join(str(d.span) for d in analysis.facts.dags if d.dag_id == dag.dag_id and d is not dag)
        message = f"dag_id {dag.dag_id!r} is also defined at {others}; Airflow loads only one of them"
        yield Finding("MM402", dag.span.path, dag.span.line, message, analysis.ownership.of(dag).team, fingerprint(dag.dag_id))


def _cloud_resources(analysis: Analysis) -> Iterator[Finding]:
    """A DAG reaching, with the monolith's own identity, a cloud resource another team's DAGs write."""
    owners = writers(analysis.facts, analysis.ownership)
    seen: set[tuple[str, str, str]] = set()
    for use in sorted(analysis.facts.resources, key=lambda u: u.span):
        if not is_cloud(use.kind) or use.kind == SERVICE_ACCOUNT or use.identity or not use.dag:
            continue
        team = analysis.ownership.team_of_id(use.dag)
        owning = owners.get((use.kind, use.name), ())
        if team is None or not owning or team in owning or (use.dag, use.kind, use.name) in seen:
            continue
        seen.add((use.dag, use.kind, use.name))
        verb = {"write": "writes", "read": "reads"}.get(use.access or "", "uses")
        owned = f"owned by {owning[0]} (its DAGs write it)" if len(owning) == 1 else f"written by teams {', '.join(owning)} (ownership to settle)"
        message = (
            f"DAG {use.dag!r} ({team}) {verb} {use.kind} {use.name!r}, {owned}, with the monolith's identity; "
            f"in the mesh, {team}'s service account needs a grant from {', '.join(owning)}"
        )
        yield Finding("MM106", use.span.path, use.span.line, message, team, fingerprint(use.kind, use.name, use.dag))


def missing_helper_module(analysis: Analysis, paths: Iterable[str], repo: str = ".") -> Iterator[Finding]:
    """Files of PATHS importing the codemod's helper module while it does not exist: Airflow cannot load them.

    The analysis sees such an import as one of a package outside the repository, so the
    files are read here; only when the module is missing, and only those naming it.
    """
    try:
        module = helper_module_name(analysis.rules)
    except ConfigError:
        return  # the rule pack names no helper module: the codemod writes none
    if analysis.root is None:
        return
    path = helper_path(analysis.layout, module)
    if (analysis.root / path).exists():
        return
    teams: dict[str, str | None] = {}  # a file's team: that of its first DAG
    for dag in sorted(analysis.facts.dags, key=lambda d: d.span):
        teams.setdefault(dag.span.path, analysis.ownership.of(dag).team)
    for span in importers(analysis.root, paths, module):
        team = teams.get(span.path)
        rerun = f"mesh-migrate codemod {repo} --team {team} --apply" if team else f"mesh-migrate codemod {repo} --all-teams --apply"
        message = f"imports {module}, but {path} does not exist, so Airflow cannot load this file; restore it from git, or write it again with {rerun}"
        yield Finding("MM403", span.path, span.line, message, team, fingerprint(module))
