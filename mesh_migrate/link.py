"""Linking: per-file facts to repository facts (datasets paired, duplicates and dangling found)."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from .facts import DagFact, DatasetUse, DependencyFact, Diagnostic, FileFacts, RepoFacts, ResourceUse, SourceSpan


POSTING = "posting producer"
# A dataset whose producer posts its events to the consuming instance: migrated, like the
# codemod's other HTTP dependencies.
POSTED_KIND = "http_dataset"


def link(root: str, file_facts: Iterable[FileFacts], skipped: Iterable[tuple[str, str]] = ()) -> RepoFacts:
    files = sorted(file_facts, key=lambda f: f.path)
    dags = [d for f in files for d in f.dags]
    dependencies = [d for f in files for d in f.dependencies]
    datasets = [u for f in files for u in f.datasets]
    diagnostics = [d for f in files for d in f.diagnostics]

    dataset_deps, dataset_notes = pair_datasets(datasets)
    dependencies += dataset_deps
    diagnostics += dataset_notes
    diagnostics += duplicate_dag_ids(dags)
    known = {d.dag_id for d in dags}
    diagnostics += dangling(dependencies, known)
    diagnostics += self_dependencies(dependencies)

    return RepoFacts(
        root=root,
        files=tuple(f.path for f in files),
        dags=tuple(sorted(dags, key=_dag_order)),
        dependencies=tuple(sorted(dependencies, key=_dependency_order)),
        resources=tuple(sorted((r for f in files for r in f.resources), key=_resource_order)),
        unresolved=tuple(sorted((u for f in files for u in f.unresolved), key=lambda u: (*_place(u.span), u.what))),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (*_place(d.span), d.code))),
        skipped=tuple(sorted(skipped)),
        modules=tuple(sorted({m for f in files for m in f.depends_on} - {f.path for f in files})),
    )


# Sort keys as flat tuples of plain values, in the order of `SourceSpan`'s compared fields
# for a place: sorting tens of thousands of facts then compares in C, not through the
# dataclass's `__lt__`, and without a tuple nested in each key.
def _place(span: SourceSpan) -> tuple[str, int, int]:
    return (span.path, span.line, span.column)


def _dag_order(dag: DagFact) -> tuple:
    span = dag.span
    return (dag.dag_id, span.path, span.line, span.column)


def _dependency_order(dep: DependencyFact) -> tuple:
    span = dep.span
    return (span.path, span.line, span.column, dep.kind, dep.source, dep.target, dep.task_id or "")


def _resource_order(use: ResourceUse) -> tuple:
    span = use.span
    return (use.kind, use.name, span.path, span.line, span.column, use.dag or "")


def pair_datasets(uses: list[DatasetUse]) -> tuple[list[DependencyFact], list[Diagnostic]]:
    """One dependency per producer/consumer pair of each dataset URI."""
    producers: dict[str, list[DatasetUse]] = defaultdict(list)
    for use in uses:
        if use.role in ("producer", POSTING):
            producers[use.uri].append(use)
    deps: list[DependencyFact] = []
    notes: list[Diagnostic] = []
    for use in uses:
        if use.role != "consumer":
            continue
        makers = producers.get(use.uri, [])
        if not makers:
            notes.append(
                Diagnostic("warning", "dataset-without-producer", f"DAG {use.dag!r} is scheduled on dataset {use.uri!r}, which no task produces", use.span)
            )
        seen: set[tuple[str, str | None]] = set()
        for maker in makers:
            if (maker.dag, maker.task_id) in seen:
                continue
            seen.add((maker.dag, maker.task_id))
            deps.append(
                DependencyFact(
                    kind=POSTED_KIND if maker.role == POSTING else "dataset",
                    source=maker.dag,
                    target=use.dag,
                    dag=use.dag,
                    task_id=maker.task_id,
                    span=use.span,
                    operator="dataset",
                    dataset=use.uri,
                    via=maker.span,
                )
            )
    return deps, notes


def duplicate_dag_ids(dags: list) -> list[Diagnostic]:
    by_id: dict[str, list] = defaultdict(list)
    for dag in dags:
        by_id[dag.dag_id].append(dag)
    notes = []
    for dag_id, same in by_id.items():
        if len(same) < 2:
            continue
        for dag in same:
            others = ", ".join(str(o.span) for o in same if o is not dag)
            notes.append(Diagnostic("error", "duplicate-dag-id", f"dag_id {dag_id!r} is also defined at {others}", dag.span))
    return notes


def names_unknown_dag(named: str) -> str:
    """How a dependency on a DAG no analyzed file defines is told: an empty id is no DAG at
    all but a target chosen at run time (a subclass passing "" and picking the DAG itself)."""
    if not named.strip():
        return "names an empty DAG id: its DAG is chosen at run time, which no static analysis follows"
    return f"names DAG {named!r}, which no analyzed file defines"


def dangling(dependencies: list[DependencyFact], known: set[str]) -> list[Diagnostic]:
    notes = []
    for dep in dependencies:
        named = dep.source if dep.target == dep.dag else dep.target
        if named not in known:
            notes.append(Diagnostic("warning", "unknown-dag", f"{dep.kind} {dep.task_id or ''} {names_unknown_dag(named)}".replace("  ", " "), dep.span))
    return notes


def self_dependencies(dependencies: list[DependencyFact]) -> list[Diagnostic]:
    """A DAG that depends on itself (a sensor on its own previous run): allowed, not a cycle."""
    return [
        Diagnostic("info", "self-dependency", f"{dep.kind} {dep.task_id or ''} of DAG {dep.dag!r} depends on its own DAG (allowed, not a cycle)".replace("  ", " "), dep.span)
        for dep in dependencies
        if dep.source == dep.target
    ]
