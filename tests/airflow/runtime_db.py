"""Build a metadata database with a real Airflow: the runtime tests' data.

    .venv-airflow2/bin/python tests/airflow/runtime_db.py build/runtime-airflow2.db [--repo fixtures/skyflow]

Runs under a Python that has apache-airflow (tests/airflow/requirements-*.txt), never under
mesh-migrate's. In a scratch AIRFLOW_HOME, with REPO/dags as the DAG folder, it runs
``airflow db migrate`` on a new sqlite file, parses the DAGs into it with Airflow's own
DagBag, and records history through Airflow's models, relative to now:

- every DAG runs once a day over the last RUN_DAYS days, each task a few minutes long;
- PAUSED is paused and last ran 60 days ago (outside a 30-day window);
- NEVER_RUN is parsed but never run;
- RETIRED is parsed from a file that is then deleted (and deactivated, as the scheduler does);
- Variables decide two targets: ``crm_sync_dag_id`` (read at parse time) and
  ``upstream_dag`` (a Jinja template, rendered into rendered_task_instance_fields when the
  sensor's task instance renders).

Prints what it planted as JSON; the tests read the same names from tests/test_runtime_db.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

RUN_DAYS = 3
PAUSED = "crm_contacts_quality_checks"
NEVER_RUN = "customer_service_chat_transcripts_export"
RETIRED = "crm_legacy_export"
VARIABLES = {"crm_sync_dag_id": "crm_contacts_reconcile", "upstream_dag": "crm_account_merges_hourly"}
RENDERED = ("customer_service_ticket_sync", "wait_escalation_source")
RETIRED_FILE = f'''
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("{RETIRED}", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         default_args={{"owner": "crm-data"}}):
    EmptyOperator(task_id="export")
'''


def environment(home: Path, repo: Path, database: Path, dags: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(dags), str(repo / "plugins")]),
    }


def minutes(*parts: str) -> int:
    """A stable task duration of 2 to 21 minutes."""
    return 2 + int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16) % 20


def populate(dags_folder: Path, retired_folder: Path) -> dict:
    """Runs inside the AIRFLOW_HOME set up by main(), after `airflow db migrate`."""
    import airflow
    from airflow.models import DagBag, DagModel, TaskInstance, Variable
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType

    for key, value in VARIABLES.items():
        Variable.set(key, value)
    bag = DagBag(dag_folder=str(dags_folder), include_examples=False)
    bag.sync_to_db()
    retired = DagBag(dag_folder=str(retired_folder), include_examples=False)
    retired.sync_to_db()
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    runs = 0
    with create_session() as session:
        for dag_id in sorted(bag.dags):
            if dag_id == NEVER_RUN:
                continue
            dag = bag.dags[dag_id]
            days = [60] if dag_id == PAUSED else range(1, RUN_DAYS + 1)
            for day in days:
                logical = now - timedelta(days=day)
                start = logical + timedelta(minutes=minutes(dag_id) % 30)
                run = dag.create_dagrun(
                    run_id=f"scheduled__{logical.isoformat()}", run_type=DagRunType.SCHEDULED,
                    execution_date=logical, data_interval=(logical, logical + timedelta(days=1)),
                    state=DagRunState.SUCCESS, start_date=start, session=session,
                )
                end = start
                for ti in run.get_task_instances(session=session):
                    length = timedelta(minutes=minutes(dag_id, ti.task_id))
                    ti.state = TaskInstanceState.SUCCESS
                    ti.start_date, ti.end_date, ti.duration = start, start + length, length.total_seconds()
                    ti.try_number = 1
                    end = max(end, start + length)
                    if (dag_id, ti.task_id) == RENDERED:
                        ti.task = dag.get_task(ti.task_id)
                        ti.dag_run = run
                        session.merge(RenderedTaskInstanceFields(ti, render_templates=True))
                run.end_date = end
                runs += 1
        session.flush()
        session.query(DagModel).filter(DagModel.dag_id == PAUSED).update({DagModel.is_paused: True})
        # The scheduler deactivates a DAG whose file is gone.
        session.query(DagModel).filter(DagModel.dag_id == RETIRED).update({DagModel.is_active: False})
        # Every other DAG is unpaused, as in a running monolith.
        session.query(DagModel).filter(DagModel.dag_id != PAUSED).update({DagModel.is_paused: False})
        task_instances = session.query(TaskInstance).count()
    return {
        "airflow": airflow.__version__, "dags": len(bag.dags) + 1, "dag_runs": runs, "task_instances": task_instances,
        "paused": PAUSED, "never_run": NEVER_RUN, "retired": RETIRED, "variables": VARIABLES,
        "import_errors": sorted(bag.import_errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2] / "fixtures" / "skyflow")
    parser.add_argument("--populate", nargs=2, type=Path, help=argparse.SUPPRESS)  # internal: the second stage
    args = parser.parse_args()
    if args.populate:
        print(json.dumps(populate(*args.populate)))
        return 0
    database, repo = args.database.resolve(), args.repo.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runtime-db-") as scratch:
        home, retired = Path(scratch) / "home", Path(scratch) / "retired"
        home.mkdir()
        retired.mkdir()
        (retired / "crm_legacy_export.py").write_text(RETIRED_FILE)
        partial = database.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        env = environment(home, repo, partial, repo / "dags")
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        done = subprocess.run(
            [sys.executable, __file__, str(database), "--populate", str(repo / "dags"), str(retired)],
            env=env, check=True, stdout=subprocess.PIPE, text=True,
        )
        (retired / "crm_legacy_export.py").unlink()  # the file is gone; the database keeps the DAG
        os.replace(partial, database)
    print(done.stdout.strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
