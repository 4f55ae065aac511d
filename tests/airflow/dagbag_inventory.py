"""What Airflow itself makes of a monolith: its DagBag, import errors and DAG dependencies.

    python tests/airflow/dagbag_inventory.py ROOT OUT.json [URIS.json]

Runs under the Python of an Airflow virtual environment (2.x or 3.x), never under
mesh-migrate's, and is started by tests/airflow/verify.py, which sets the environment first:
AIRFLOW_HOME (a scratch folder), AIRFLOW__CORE__DAGS_FOLDER=ROOT/dags and
AIRFLOW__CORE__PLUGINS_FOLDER=ROOT/plugins (Airflow puts both on sys.path itself),
AIRFLOW__CORE__LOAD_EXAMPLES=False and AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX.

Writes one JSON document to OUT.json (Airflow logs to stdout, so stdout is not used):

- ``dag_dependencies``: per DAG, ``SerializedDAG.serialize_dag(dag)["dag_dependencies"]``,
  the records behind ``airflow dags show-dependencies`` and the UI's DAG dependencies view;
- ``import_errors``: the DagBag's, by file;
- ``files``: every file Airflow's discovery lists under the DAG folder (.airflowignore
  honoured), with whether the safe-mode heuristic let it be parsed;
- ``tasks``: every task that names another DAG (``external_dag_id``, ``trigger_dag_id``
  or any ``*_dag`` / ``*_dag_id`` attribute), with its class hierarchy, so that an edge Airflow
  does not record can be explained by what Airflow actually ran;
- ``normalized_uris``: for each dataset URI of URIS.json (a JSON list), the URI Airflow stores
  for it (``Dataset(uri=...).uri`` on 2.x, ``Asset(uri=...).uri`` on 3.x: the providers'
  ``sanitize_uri``, e.g. postgres:// gains its default port), or null when Airflow rejects it.

Nothing here needs a metadata database: DagBag and serialization work in memory.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path


def _relative(path: str | os.PathLike, root: Path) -> str:
    """POSIX path relative to ROOT; Airflow 3 keys import errors by their path in the DAG folder."""
    full = Path(path) if Path(path).is_absolute() else root / "dags" / path
    try:
        return full.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _names(value) -> list[str] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v if isinstance(v, str) else repr(v) for v in value]
    return repr(value)


def _task_record(task) -> dict | None:
    """The task, if it names another DAG or is a sensor/trigger/marker class, else None."""
    operator_class = getattr(task, "operator_class", None)  # a MappedOperator's real class
    cls = operator_class if isinstance(operator_class, type) else type(task)
    mro = [f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__]
    attributes: dict = {}
    partial = getattr(task, "partial_kwargs", None)
    for name in ("external_dag_id", "trigger_dag_id", "external_task_id", "external_task_ids", "external_task_group_id"):
        if hasattr(task, name):
            attributes[name] = _names(getattr(task, name))
        elif isinstance(partial, dict) and name in partial:
            attributes[name] = _names(partial[name])
    for name, value in vars(task).items() if hasattr(task, "__dict__") else ():
        if name.endswith(("_dag", "_dag_id")) and name not in attributes and not name.startswith("_"):
            attributes[name] = _names(value)
    if not attributes and not any("ExternalTask" in m or "TriggerDagRun" in m for m in mro):
        return None
    return {
        "dag_id": task.dag_id,
        "task_id": task.task_id,
        "mapped": operator_class is not None and type(task).__name__ == "MappedOperator",
        "classes": mro,
        "attributes": attributes,
    }


def normalize_uris(uris: list[str]) -> dict[str, str | None]:
    try:
        from airflow.sdk import Asset as Dataset
    except ImportError:
        from airflow.datasets import Dataset
    normalized: dict[str, str | None] = {}
    for uri in uris:
        try:
            normalized[uri] = Dataset(uri=uri).uri
        except Exception:  # noqa: BLE001 - Airflow refuses the URI; the comparison keeps it as written
            normalized[uri] = None
    return normalized


def main(root: Path, out: Path, uris: Path | None = None) -> None:
    root = root.resolve()
    dags_folder = root / "dags"
    started = time.perf_counter()
    warnings.simplefilter("ignore")  # deprecated import paths are part of what is being loaded
    import airflow
    from airflow.models.dagbag import DagBag
    from airflow.serialization.serialized_objects import SerializedDAG
    from airflow.utils import file as file_utils

    imported = time.perf_counter()
    try:
        # Airflow 3.1's DAG processor parses with a BundleDagBag, which puts the bundle (the DAG
        # folder) on sys.path; Airflow 2 put the DAG folder there when airflow was imported.
        from airflow.models.dagbag import BundleDagBag
    except ImportError:
        BundleDagBag = None
    if BundleDagBag is not None:
        bag = BundleDagBag(dag_folder=str(dags_folder), bundle_path=dags_folder, include_examples=False)
    elif airflow.__version__.startswith("2."):
        bag = DagBag(dag_folder=str(dags_folder), include_examples=False, read_dags_from_db=False)
    else:  # Airflow 3.0: its DAG processor puts the bundle on sys.path before parsing
        sys.path.append(str(dags_folder))
        bag = DagBag(dag_folder=str(dags_folder), include_examples=False)
    loaded = time.perf_counter()

    # Every file discovery lists (.airflowignore honoured), and whether safe mode let it through.
    processed = {_relative(p, root) for p in bag.file_last_changed}
    files = [
        {
            "file": _relative(path, root),
            "safe_mode_parses": bool(file_utils.might_contain_dag_via_default_heuristic(path)),
            "processed": _relative(path, root) in processed,
        }
        for path in sorted(file_utils.list_py_file_paths(str(dags_folder), safe_mode=False))
    ]

    dags, dependencies, tasks, serialization_errors = [], [], [], {}
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        file = _relative(dag.fileloc, root)
        dags.append({"dag_id": dag_id, "file": file})
        for task in dag.tasks:
            record = _task_record(task)
            if record:
                record["file"] = file
                tasks.append(record)
        try:
            serialized = SerializedDAG.serialize_dag(dag)
        except Exception as exc:  # noqa: BLE001 - reported, the comparison decides what it means
            serialization_errors[dag_id] = f"{type(exc).__name__}: {exc}"
            continue
        for dep in serialized.get("dag_dependencies", []):
            dependencies.append({
                "dag": dag_id,
                "file": file,
                "source": dep.get("source"),
                "target": dep.get("target"),
                "dependency_type": dep.get("dependency_type"),
                "dependency_id": dep.get("dependency_id"),
            })
    serialized_at = time.perf_counter()

    import_errors = {}
    for path, message in bag.import_errors.items():
        lines = [line for line in str(message).strip().splitlines() if line.strip()]
        import_errors[_relative(path, root)] = lines[-1].strip() if lines else ""

    document = {
        "airflow": airflow.__version__,
        "python": sys.version.split()[0],
        "dags_folder": str(dags_folder),
        "dag_ignore_file_syntax": os.environ.get("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", ""),
        "seconds": {
            "import": round(imported - started, 2),
            "dagbag": round(loaded - imported, 2),
            "serialize": round(serialized_at - loaded, 2),
        },
        "files": files,
        "dags": dags,
        "import_errors": import_errors,
        "serialization_errors": serialization_errors,
        "dag_dependencies": dependencies,
        "tasks": tasks,
        "normalized_uris": normalize_uris(json.loads(uris.read_text(encoding="utf-8"))) if uris else {},
    }
    out.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) == 4 else None)
