"""The access roles of one team against a real Airflow 2.10 webserver (`make e2e-access`).

    .venv-airflow2/bin/python tests/airflow/e2e_access.py build/e2e-access finance

REPORT is a folder written by `mesh-migrate analyze --out`. The team's DAGs (ids from
plans/<team>.yaml, each with one task; those scheduled on another team's dataset in the
monolith are scheduled on it here too, so the datasets exist) are written to a temporary DAGs folder, a
webserver is started on it (tests/airflow/servers.py), and tests/airflow/access_check.py
loads access/<team>.json into it and checks every role's reach. Exit status 0 when every
check held.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from access_check import run  # noqa: E402
from servers import PASSWORD, USERNAME, airflow_server  # noqa: E402

DAG_FILE = '''"""The DAG ids of team {team}, one task each: what access/{team}.json names."""
from datetime import datetime

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.empty import EmptyOperator

SCHEDULES = {schedules!r}

for dag_id in {dag_ids!r}:
    uris = SCHEDULES.get(dag_id)
    with DAG(dag_id, start_date=datetime(2024, 1, 1), schedule=[Dataset(u) for u in uris] if uris else None, catchup=False) as dag:
        EmptyOperator(task_id="work")
    globals()[dag_id] = dag
'''


def dags_source(plan: dict) -> str:
    schedules: dict[str, list[str]] = defaultdict(list)
    for item in plan["outbound"]:  # a schedule on another team's dataset is held by our DAG
        if item["kind"] == "dataset" and item["dataset"] not in schedules[item["target"]]:
            schedules[item["target"]].append(item["dataset"])
    dag_ids = sorted({d["dag_id"] for d in plan["dags"]})
    return DAG_FILE.format(team=plan["team"], schedules=dict(sorted(schedules.items())), dag_ids=dag_ids)


def main(report: Path, team: str) -> int:
    plan = yaml.safe_load((report / "plans" / f"{team}.yaml").read_text(encoding="utf-8"))
    access = report / "access" / f"{team}.json"
    with tempfile.TemporaryDirectory(prefix="mesh-access-dags-") as folder:
        dags = Path(folder)
        (dags / f"{team}_dags.py").write_text(dags_source(plan), encoding="utf-8")
        started = time.monotonic()
        with airflow_server(2, Path(sys.executable), dags) as server:
            print(f"Airflow 2.10 webserver healthy at {server.url} after {time.monotonic() - started:.0f}s")
            checks = run(server.url, USERNAME, PASSWORD, access)
    for check in checks:
        print(f"{'ok  ' if check.held else 'FAIL'} {check.user}: {check.what}: {check.got} (expected {check.expected})")
    failed = [c for c in checks if not c.held]
    print(json.dumps({"team": team, "roles": len(json.loads(access.read_text())["roles"]), "checks": len(checks), "failed": len(failed)}))
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
