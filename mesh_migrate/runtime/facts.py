"""What the metadata database says, as frozen data: the runtime counterpart of facts.RepoFacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property


@dataclass(frozen=True)
class RuntimeDag:
    dag_id: str
    is_paused: bool
    is_active: bool  # False once the scheduler saw its file go (Airflow 3: is_stale)
    fileloc: str | None
    owners: tuple[str, ...]
    last_parsed: datetime | None
    runs: int  # DAG runs in the window
    last_run: datetime | None  # the latest run start in the window


@dataclass(frozen=True)
class RuntimeEdge:
    """A DAG dependency Airflow recorded when it serialized the DAG (serialized_dag.dag_dependencies).

    `source`/`target` follow Airflow's convention, as facts.DependencyFact does. `rendered` is
    True when the target came from a task's rendered template fields instead of the
    serialized (unrendered) value.
    """

    kind: str  # "sensor" | "trigger" | "dataset" (Airflow 3: "asset" is read as "dataset")
    source: str
    target: str
    dag: str  # the DAG whose serialization holds it
    task_id: str | None  # Airflow's dependency_id for sensors and triggers
    dataset: str | None = None
    rendered: bool = False


@dataclass(frozen=True, slots=True)
class TaskSpan:
    """One task instance started in the window; slots because a month of a monolith is millions."""

    dag_id: str
    start: datetime
    end: datetime  # the window's end for a task still running


@dataclass(frozen=True)
class RuntimeFacts:
    url: str  # the database URL without its password
    schema_revision: str
    airflow_version: str  # the Airflow release whose schema this is, e.g. "2.10.3+"
    since: datetime
    until: datetime
    dags: tuple[RuntimeDag, ...]
    edges: tuple[RuntimeEdge, ...]
    dag_runs: int
    task_runs: int
    tasks: tuple[TaskSpan, ...] = ()  # the task instances behind task_runs
    pools: tuple[tuple[str, int], ...] = ()  # slot_pool: (pool, slots)

    def dag(self, dag_id: str) -> RuntimeDag | None:
        return self._dags_by_id.get(dag_id)

    @cached_property
    def _dags_by_id(self) -> dict[str, RuntimeDag]:
        """Built once: the renderers look up every flagged DAG, and a monolith has thousands."""
        by_id: dict[str, RuntimeDag] = {}
        for dag in self.dags:
            by_id.setdefault(dag.dag_id, dag)  # the first, as a scan would find
        return by_id
