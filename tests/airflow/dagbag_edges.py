"""Load a monolith with Airflow's own DagBag and print the DAG dependencies Airflow records.

    python tests/airflow/dagbag_edges.py ROOT > airflow.json

Runs under a Python that has apache-airflow (tests/airflow/requirements.txt), never under
mesh-migrate's. ROOT/dags is the DAG folder; ROOT/dags and ROOT/plugins go on sys.path as
Airflow puts its dags and plugins folders there. The edges are what the UI's DAG
dependencies view shows: `SerializedDAG.serialize_dag(dag)["dag_dependencies"]`.
Set AIRFLOW_HOME to a scratch folder first; DagBag alone needs no metadata database.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(root: Path) -> dict:
    sys.path[:0] = [str(root / "dags"), str(root / "plugins")]
    started = time.perf_counter()
    import airflow
    from airflow.models.dagbag import DagBag
    from airflow.serialization.serialized_objects import SerializedDAG

    imported = time.perf_counter()
    bag = DagBag(dag_folder=str(root / "dags"), include_examples=False, read_dags_from_db=False)
    loaded = time.perf_counter()
    edges = []
    for dag_id in sorted(bag.dags):
        for dependency in SerializedDAG.serialize_dag(bag.dags[dag_id])["dag_dependencies"]:
            edges.append(
                {
                    "source": dependency["source"],
                    "target": dependency["target"],
                    "type": dependency["dependency_type"],
                    "id": dependency.get("dependency_id"),
                }
            )
    serialized = time.perf_counter()
    return {
        "airflow": airflow.__version__,
        "import_seconds": imported - started,
        "dagbag_seconds": loaded - imported,
        "serialize_seconds": serialized - loaded,
        "files": len(bag.file_last_changed),
        "dags": len(bag.dags),
        "import_errors": {path: message.strip().splitlines()[-1] for path, message in bag.import_errors.items()},
        "edges": edges,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]).resolve())))
