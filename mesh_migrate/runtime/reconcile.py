"""The static graph against what the metadata database recorded: pure functions over facts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..facts import DependencyFact, RepoFacts, Unresolved
from .facts import RuntimeEdge, RuntimeFacts

# The kinds Airflow records in serialized_dag.dag_dependencies; markers and a rule pack's
# custom kinds make no record, so the database can neither confirm nor deny them.
RECORDED = frozenset({"sensor", "trigger", "dataset"})
# Airflow 2 records a sensor or a trigger only of its core classes (and their subclasses):
# the ones apache-airflow-providers-standard ships are other classes (apache/airflow#52720).
UNRECORDED_ON_AIRFLOW_2 = "airflow.providers.standard."
SEEN, NOT_SEEN = "seen", "not_seen"
# Why a DAG is dead weight, in the order they are shown.
FLAGS = ("only_in_db", "inactive", "paused", "not_run", "not_in_db")
_TARGET_ITEM = re.compile(r"(external_dag_id|trigger_dag_id) of \S+ '(?P<task>[^']+)'")
_KIND_OF_FIELD = {"external_dag_id": "sensor", "trigger_dag_id": "trigger"}


@dataclass(frozen=True)
class Resolution:
    """An unresolved static target that the database names."""

    item: Unresolved
    dag: str
    task_id: str
    edge: RuntimeEdge

    @property
    def other_dag(self) -> str:
        return self.edge.source if self.edge.kind == "sensor" else self.edge.target


@dataclass(frozen=True)
class DagFlag:
    dag_id: str
    flags: tuple[str, ...]  # a subset of FLAGS


@dataclass(frozen=True)
class Reconciliation:
    runtime: RuntimeFacts
    statuses: tuple[str | None, ...]  # per facts.dependencies, in order: SEEN, NOT_SEEN, or None (not recorded by Airflow)
    runtime_only: tuple[RuntimeEdge, ...]  # recorded by Airflow, found by no static dependency
    resolved: tuple[Resolution, ...]
    flagged: tuple[DagFlag, ...]

    def flags_of(self, dag_id: str) -> tuple[str, ...]:
        return next((f.flags for f in self.flagged if f.dag_id == dag_id), ())


def _key(kind: str, source: str, target: str) -> tuple[str, str, str]:
    return kind, source, target


def reconcile(facts: RepoFacts, runtime: RuntimeFacts) -> Reconciliation:
    recorded = {_key(e.kind, e.source, e.target) for e in runtime.edges}
    airflow_major = int(runtime.airflow_version.split(".", 1)[0])
    statuses = tuple(_status(d, recorded, airflow_major) for d in facts.dependencies)
    resolved = tuple(_resolutions(facts, runtime))
    static = {_key(d.kind, d.source, d.target) for d in facts.dependencies}
    explained = {id(r.edge) for r in resolved}
    runtime_only = tuple(
        e for e in runtime.edges
        if _key(e.kind, e.source, e.target) not in static and id(e) not in explained and "{{" not in e.source + e.target
    )
    return Reconciliation(runtime, statuses, runtime_only, resolved, tuple(_flags(facts, runtime)))


def recordable(dependency: DependencyFact, airflow_major: int) -> bool:
    """Whether that Airflow writes such a dependency into serialized_dag at all."""
    if dependency.kind not in RECORDED:
        return False
    standard = (dependency.operator or "").startswith(UNRECORDED_ON_AIRFLOW_2)
    return not (airflow_major == 2 and dependency.kind in ("sensor", "trigger") and standard)


def _status(dependency: DependencyFact, recorded: set[tuple[str, str, str]], airflow_major: int) -> str | None:
    if not recordable(dependency, airflow_major):
        return None
    return SEEN if _key(dependency.kind, dependency.source, dependency.target) in recorded else NOT_SEEN


def _resolutions(facts: RepoFacts, runtime: RuntimeFacts):
    """A Jinja or Variable target, resolved from the edge Airflow recorded at the same DAG and task."""
    dags_in_file: dict[str, set[str]] = {}
    for dag in facts.dags:
        dags_in_file.setdefault(dag.span.path, set()).add(dag.dag_id)
    for item in facts.unresolved:
        match = _TARGET_ITEM.match(item.what)
        if not match:
            continue
        kind, task = _KIND_OF_FIELD[match.group(1)], match.group("task")
        candidates = [
            e for e in runtime.edges
            if e.kind == kind and e.task_id == task and e.dag in dags_in_file.get(item.span.path, ())
            and "{{" not in e.source + e.target
        ]
        if len(candidates) == 1:
            yield Resolution(item, candidates[0].dag, task, candidates[0])


def _flags(facts: RepoFacts, runtime: RuntimeFacts):
    static = {d.dag_id for d in facts.dags}
    in_db = {d.dag_id for d in runtime.dags}
    for dag in runtime.dags:
        flags = {
            "only_in_db": dag.dag_id not in static,
            "inactive": not dag.is_active,
            "paused": dag.is_paused,
            "not_run": dag.runs == 0,
        }
        if any(flags.values()):
            yield DagFlag(dag.dag_id, tuple(f for f in FLAGS if flags.get(f)))
    for dag_id in sorted(static - in_db):
        yield DagFlag(dag_id, ("not_in_db",))
