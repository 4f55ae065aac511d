"""The facts model: the contract between extraction and every later stage.

Everything here is a frozen dataclass of plain values, so facts pickle cheaply across
processes, cache as JSON and can be built by hand in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from .frozen import direct_init


@direct_init  # every fact of every file extracted: see frozen.py
@dataclass(frozen=True, order=True, slots=True)
class SourceSpan:
    path: str  # posix, relative to the analyzed root
    line: int
    column: int = 0
    # Where the construct ends (0 when unknown): a call and the call inside it may start at
    # the same place (`S.partial(...).expand(...)`), the whole span tells them apart.
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@direct_init
@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value the analysis could not determine statically."""

    what: str  # e.g. "dag_id", "external_dag_id of wait_for_x", "connection"
    expression: str
    reason: str
    span: SourceSpan  # the place in the DAG file (the call that reached the cause)
    origin: SourceSpan | None = None  # where the cause is, when in another module

    @property
    def cause(self) -> SourceSpan:
        return self.origin or self.span


@direct_init
@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str  # "error" | "warning" | "info"
    code: str  # e.g. "syntax-error", "duplicate-dag-id"
    message: str
    span: SourceSpan


@direct_init
@dataclass(frozen=True, slots=True)
class DagFact:
    dag_id: str
    span: SourceSpan
    defined_by: str  # "with", "assignment", "decorator", "factory"
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    schedule: str | None = None
    tasks: tuple[str, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # task group id -> the ids of its tasks


@direct_init
@dataclass(frozen=True, slots=True)
class DependencyFact:
    """One DAG waiting on, triggering or consuming from another.

    `source`/`target` follow Airflow's convention: for a sensor the source is the DAG
    waited on and the target the DAG holding the sensor; for a trigger the source is the
    triggering DAG; for a dataset the producer and the consumer.
    """

    kind: str  # "sensor" | "marker" | "trigger" | "dataset" | a custom kind from a rule pack
    source: str
    target: str
    dag: str  # the DAG holding the task that creates the dependency
    task_id: str | None
    span: SourceSpan
    operator: str = ""  # qualified name of the callable (or the rule name)
    source_tasks: tuple[str, ...] | None = None
    task_group: str | None = None
    dataset: str | None = None
    # The arguments the operator was given, as source text (execution_delta, mode, ...).
    arguments: tuple[tuple[str, str], ...] = ()
    via: SourceSpan | None = None  # where a helper actually built the operator, if not at span
    direct: bool = True  # False when built through functools.partial or a subclass

    def argument(self, name: str) -> str | None:
        return dict(self.arguments).get(name)


@direct_init
@dataclass(frozen=True, slots=True)
class ResourceUse:
    kind: str  # "connection" | "variable" | "pool" | "module" | a cloud kind of the rule pack
    name: str
    dag: str | None  # None when the use is in a file that defines no DAG
    span: SourceSpan
    # Cloud resources only: "read" | "write" | None (the operator does not say); for a
    # service account its place in an impersonation chain, "impersonate" | "delegate".
    access: str | None = None
    identity: str | None = None  # the service account the call impersonates, if any


AIRFLOW_RESOURCES = frozenset({"connection", "variable", "pool", "module"})


def is_cloud(kind: str) -> bool:
    """A cloud resource (a bucket, dataset, account...) rather than one of Airflow's own."""
    return kind not in AIRFLOW_RESOURCES


@direct_init
@dataclass(frozen=True, slots=True)
class DatasetUse:
    """A dataset produced (task outlet) or consumed (DAG schedule) by a DAG; linked later."""

    uri: str
    role: str  # "producer" | "posting producer" (it posts the events to other instances) | "consumer"
    dag: str
    task_id: str | None
    span: SourceSpan


@direct_init
@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything one file yields; small and picklable."""

    path: str
    dags: tuple[DagFact, ...] = ()
    dependencies: tuple[DependencyFact, ...] = ()
    datasets: tuple[DatasetUse, ...] = ()
    resources: tuple[ResourceUse, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # In-repo modules whose code this file's facts depend on (for cache invalidation).
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoFacts:
    root: str
    files: tuple[str, ...]
    dags: tuple[DagFact, ...] = ()
    dependencies: tuple[DependencyFact, ...] = ()
    resources: tuple[ResourceUse, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason)
    modules: tuple[str, ...] = ()  # repository modules outside `files` that DAG files import


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts and tuples to lists, recursively (for JSON and caching)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value

