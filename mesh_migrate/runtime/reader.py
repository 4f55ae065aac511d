"""Read a monolith's Airflow metadata database (2.7 to 3.1 schemas) into RuntimeFacts; never writes.

The SQL is plain SELECTs through SQLAlchemy Core on the tables `alembic_version`, `dag`,
`serialized_dag`, `dag_run`, `task_instance`, `rendered_task_instance_fields` and `slot_pool`.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import Connection, MetaData, Table, func, select
from sqlalchemy.exc import NoSuchTableError

from .connect import RuntimeDbError, connect_readonly
from .facts import RuntimeDag, RuntimeEdge, RuntimeFacts, TaskSpan
from .schema import airflow_release, known, major

TEMPLATE_MARK = "{{"
# The template field that holds the other DAG, per kind of Airflow edge.
TARGET_FIELDS = {"sensor": "external_dag_id", "trigger": "trigger_dag_id"}


def read_runtime(url: str, since: timedelta, *, now: datetime | None = None) -> RuntimeFacts:
    """Everything the analysis uses from the database at URL, history over the last SINCE."""
    until = now or datetime.now(timezone.utc)
    start = until - since
    with connect_readonly(url) as (connection, shown):
        tables = _Tables(connection, shown)
        revision = _revision(tables, shown)
        release = airflow_release(revision)
        if release is None:
            raise RuntimeDbError(f"{shown}: unknown Airflow schema version {revision} (alembic_version); understood: {known()}")
        runs = _runs(tables, start)
        edges = tuple(_edges(tables, major(release)))
        tasks = tuple(_task_spans(tables, start, until))
        return RuntimeFacts(
            url=shown,
            schema_revision=revision,
            airflow_version=release,
            since=start,
            until=until,
            dags=tuple(_dags(tables, major(release), runs)),
            edges=edges,
            dag_runs=sum(count for count, _ in runs.values()),
            task_runs=len(tasks),  # one span per task instance started in the window
            tasks=tasks,
            pools=tuple(_pools(tables)),
        )


class _Tables:
    def __init__(self, connection: Connection, shown: str):
        self.connection, self.shown, self.metadata = connection, shown, MetaData()

    def __getitem__(self, name: str) -> Table:
        if name not in self.metadata.tables:
            try:
                Table(name, self.metadata, autoload_with=self.connection)
            except NoSuchTableError:
                raise RuntimeDbError(f"{self.shown}: not an Airflow metadata database (no table {name})") from None
        return self.metadata.tables[name]

    def rows(self, query) -> Iterable[Any]:
        return self.connection.execute(query)


def _revision(tables: _Tables, shown: str) -> str:
    revisions = [row[0] for row in tables.rows(select(tables["alembic_version"].c.version_num))]
    if len(revisions) != 1:
        raise RuntimeDbError(f"{shown}: unknown Airflow schema version {', '.join(revisions) or '(none)'} (alembic_version)")
    return revisions[0]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _runs(tables: _Tables, start: datetime) -> dict[str, tuple[int, datetime | None]]:
    run = tables["dag_run"]
    query = select(run.c.dag_id, func.count(), func.max(run.c.start_date)).where(run.c.start_date >= start).group_by(run.c.dag_id)
    return {dag_id: (count, _as_utc(last)) for dag_id, count, last in tables.rows(query)}


def _task_spans(tables: _Tables, start: datetime, until: datetime) -> Iterable[TaskSpan]:
    ti = tables["task_instance"]
    query = select(ti.c.dag_id, ti.c.start_date, ti.c.end_date).where(ti.c.start_date >= start).order_by(ti.c.start_date)
    for dag_id, began, ended in tables.rows(query):
        began, ended = _as_utc(began), _as_utc(ended)
        assert began is not None  # the WHERE clause excludes NULL
        yield TaskSpan(dag_id, began, min(ended or until, until))


def _pools(tables: _Tables) -> Iterable[tuple[str, int]]:
    pool = tables["slot_pool"]
    for name, slots in tables.rows(select(pool.c.pool, pool.c.slots).order_by(pool.c.pool)):
        yield str(name), int(slots or 0)


def _dags(tables: _Tables, airflow_major: int, runs: dict[str, tuple[int, datetime | None]]) -> Iterable[RuntimeDag]:
    dag = tables["dag"]
    active = dag.c.is_active if airflow_major == 2 else dag.c.is_stale
    query = select(dag.c.dag_id, dag.c.is_paused, active, dag.c.fileloc, dag.c.owners, dag.c.last_parsed_time).order_by(dag.c.dag_id)
    for dag_id, paused, flag, fileloc, owners, parsed in tables.rows(query):
        count, last = runs.get(dag_id, (0, None))
        yield RuntimeDag(
            dag_id=dag_id,
            is_paused=bool(paused),
            is_active=bool(flag) if airflow_major == 2 else not flag,
            fileloc=fileloc,
            owners=tuple(o.strip() for o in (owners or "").split(",") if o.strip()),
            last_parsed=_as_utc(parsed),
            runs=count,
            last_run=last,
        )


def _serialized(tables: _Tables, airflow_major: int) -> dict[str, dict]:
    """dag_id -> the serialized DAG; Airflow 3 keeps a version per change, the newest wins."""
    table = tables["serialized_dag"]
    order = table.c.created_at if airflow_major >= 3 else table.c.last_updated
    latest: dict[str, dict] = {}
    for dag_id, data, compressed in tables.rows(select(table.c.dag_id, table.c.data, table.c.data_compressed).order_by(order)):
        if data is None and compressed is not None:
            data = zlib.decompress(compressed)
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
        latest[dag_id] = (data or {}).get("dag", {})
    return latest


def _edges(tables: _Tables, airflow_major: int) -> Iterable[RuntimeEdge]:
    rendered = _rendered_targets(tables)
    producers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = {}
    for dag_id, dag in sorted(_serialized(tables, airflow_major).items()):
        for record in dag.get("dag_dependencies") or ():
            kind = record.get("dependency_type", "")
            source, target, dependency_id = record.get("source", ""), record.get("target", ""), record.get("dependency_id")
            if kind in ("dataset", "asset"):
                uri = _dataset_uri(dependency_id)
                if target in ("dataset", "asset"):
                    producers.setdefault(uri, set()).add(dag_id)
                elif source in ("dataset", "asset"):
                    consumers.setdefault(uri, set()).add(dag_id)
                continue
            if kind not in TARGET_FIELDS:
                continue  # aliases and references: no DAG on the other side yet
            other = source if kind == "sensor" else target
            value = rendered.get((dag_id, dependency_id)) if TEMPLATE_MARK in other else None
            if value:
                source, target = (value, target) if kind == "sensor" else (source, value)
            yield RuntimeEdge(kind, source, target, dag_id, dependency_id, rendered=bool(value))
    # Airflow records producer -> dataset and dataset -> consumer; joined on the URI as the static side is.
    for uri in sorted(producers.keys() & consumers.keys()):
        for producer in sorted(producers[uri]):
            for consumer in sorted(consumers[uri]):
                yield RuntimeEdge("dataset", producer, consumer, consumer, None, dataset=uri)


def _dataset_uri(dependency_id: str | None) -> str:
    uri = dependency_id or ""
    if uri.startswith("{"):  # Airflow 3: json {"name", "uri"}
        try:
            return str(json.loads(uri).get("uri", uri))
        except ValueError:
            pass
    return uri


def _rendered_targets(tables: _Tables) -> dict[tuple[str, str], str]:
    """(dag, task) -> the other DAG as the task's last rendering says, for templated ids."""
    table = tables["rendered_task_instance_fields"]
    found: dict[tuple[str, str], Counter] = {}
    for dag_id, task_id, fields in tables.rows(select(table.c.dag_id, table.c.task_id, table.c.rendered_fields)):
        if isinstance(fields, (str, bytes)):
            fields = json.loads(fields)
        for name in TARGET_FIELDS.values():
            value = (fields or {}).get(name)
            if isinstance(value, str) and value and TEMPLATE_MARK not in value:
                found.setdefault((dag_id, task_id), Counter())[value] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in found.items()}
