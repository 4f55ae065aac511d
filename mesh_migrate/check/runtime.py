"""Findings from the metadata database (`check --airflow-db`): where the code and what runs disagree.

MM501 is a static dependency Airflow could record and did not; MM502 an edge Airflow recorded
in a DAG the code defines, which no static dependency explains. Edges of DAGs that no analyzed
file defines are not findings: there is no line to put them on, and `analyze --airflow-db`
lists them with their DAG flagged `only_in_db`.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import Analysis
from ..facts import DagFact
from ..plan import is_migrated
from ..runtime.reconcile import NOT_SEEN
from .findings import Finding, dependency_fingerprint, fingerprint

NOT_SEEN_CODE, RUNTIME_ONLY_CODE = "MM501", "MM502"
# Why a DAG could not have recorded the edge, in the words of the message.
_WHY = {
    "not_in_db": "Airflow never parsed DAG {dag!r}",
    "only_in_db": "DAG {dag!r} is in the database only",
}


def runtime_findings(analysis: Analysis) -> Iterator[Finding]:
    if analysis.runtime is None:
        return
    yield from _not_seen(analysis)
    yield from _runtime_only(analysis)


def _not_seen(analysis: Analysis) -> Iterator[Finding]:
    rec = analysis.runtime
    assert rec is not None
    for dep, status in zip(analysis.facts.dependencies, rec.statuses):
        if status != NOT_SEEN or is_migrated(dep):
            continue
        other = dep.source if dep.target == dep.dag else dep.target
        flags = rec.flags_of(dep.dag)
        reason = next((_WHY[f].format(dag=dep.dag) for f in flags if f in _WHY), None)
        because = f" ({reason})" if reason else ""
        message = (
            f"{_describe(dep.kind, dep.dag, dep.task_id, dep.source, dep.target, dep.dataset)}: the metadata database has no such edge{because}; "
            "remove it if it is dead, or suppress it where Airflow cannot record it"
        )
        yield Finding(NOT_SEEN_CODE, dep.span.path, dep.span.line, message, analysis.ownership.team_of_id(dep.dag), dependency_fingerprint(dep, other))


def _runtime_only(analysis: Analysis) -> Iterator[Finding]:
    rec = analysis.runtime
    assert rec is not None
    definitions: dict[str, DagFact] = {}  # the first definition of a duplicated dag id
    for dag in sorted(analysis.facts.dags, key=lambda d: d.span):
        definitions.setdefault(dag.dag_id, dag)
    for edge in rec.runtime_only:
        definition = definitions.get(edge.dag)
        if definition is None:
            continue
        message = (
            f"{_describe(edge.kind, edge.dag, edge.task_id, edge.source, edge.target, edge.dataset)}: recorded in the metadata database, "
            "found by no static dependency, so no plan accounts for it; name the DAG literally, or add a rule for the operator that makes it"
        )
        team = analysis.ownership.team_of_id(edge.dag)
        yield Finding(RUNTIME_ONLY_CODE, definition.span.path, definition.span.line, message, team, fingerprint(edge.kind, edge.dag, edge.task_id, edge.source, edge.target, edge.dataset))


def _describe(kind: str, dag: str, task_id: str | None, source: str, target: str, dataset: str | None) -> str:
    """Source and target as Airflow names them: a sensor's DAG waits on its source, a trigger's starts its target."""
    task = f" {task_id!r}" if task_id else ""
    if kind == "sensor":
        return f"sensor{task} in DAG {dag!r} waiting on DAG {source!r}"
    if kind == "trigger":
        return f"trigger{task} in DAG {dag!r} starting DAG {target!r}"
    return f"DAG {target!r} scheduled on dataset {dataset!r} of DAG {source!r}"
