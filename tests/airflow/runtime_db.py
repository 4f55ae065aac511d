"""Build a metadata database with a real Airflow: the runtime tests' data.

    .venv-airflow2/bin/python tests/airflow/runtime_db.py build/runtime-airflow2.db [--repo fixtures/skyflow]
    .venv-airflow3/bin/python tests/airflow/runtime_db.py build/runtime-airflow3.db
    .venv-airflow3/bin/python tests/airflow/runtime_db.py --url postgresql+psycopg2://user@127.0.0.1:5999/airflow3

Runs under a Python that has apache-airflow 2 or 3 (tests/airflow/requirements-*.txt), never
under mesh-migrate's. In a scratch AIRFLOW_HOME, with REPO/dags as the DAG folder, it runs
``airflow db migrate`` on a new sqlite file (written beside and renamed when complete) or on
the empty database at URL (tests/airflow/postgres.py makes one), parses the DAGs into it with
Airflow's own DagBag, and records history through Airflow's models, relative to now.

Airflow 3 records nothing for a DAG folder in which a file fails to import or to serialize
(the fixture has several on purpose), so there the DAG folder is a scratch copy of REPO/dags
without them: each file Airflow 3 fails on is found by parsing and serializing the copy, and
is removed before the DAGs are written to the database. Its history:

- every DAG runs once a day over the last RUN_DAYS days, each task a few minutes long;
- PAUSED is paused and last ran 60 days ago (outside a 30-day window);
- NEVER_RUN is parsed but never run;
- RETIRED is parsed from a file that is then deleted (and deactivated, as the scheduler does);
- Variables decide two targets: ``crm_sync_dag_id`` (read at parse time) and
  ``upstream_dag`` (a Jinja template, rendered into rendered_task_instance_fields when the
  sensor's task instance renders; under Airflow 3 the rendering is what a worker sends to
  the API server, written as the API server writes it).

Prints what it planted as JSON; the tests read the same names from tests/test_runtime_db.py.
"""

from __future__ import annotations

import argparse
import functools
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
BUNDLE = "dags-folder"  # Airflow 3's default bundle: the configured DAG folder
RETIRED_FILE = f'''
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("{RETIRED}", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False,
         default_args={{"owner": "crm-data"}}):
    EmptyOperator(task_id="export")
'''


def environment(home: Path, repo: Path, url: str, dags: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(dags), str(repo / "plugins")]),
    }


def minutes(*parts: str) -> int:
    """A stable task duration of 2 to 21 minutes."""
    return 2 + int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16) % 20


def populate(dags_folder: Path, retired_folder: Path) -> dict:
    """Runs inside the AIRFLOW_HOME set up by main(), after `airflow db migrate`: the same
    history for either Airflow major, through the calls each provides (below)."""
    import airflow
    from airflow.models import DagModel, TaskInstance, Variable
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    for key, value in VARIABLES.items():
        Variable.set(key, value)
    bag, left_out = sync_dags(dags_folder, retired_folder)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    runs = 0
    with create_session() as session:
        for dag_id in sorted(bag.dags):
            if dag_id == NEVER_RUN:
                continue
            dag = runnable(bag, dag_id, session)
            days = [60] if dag_id == PAUSED else range(1, RUN_DAYS + 1)
            for day in days:
                logical = now - timedelta(days=day)
                start = logical + timedelta(minutes=minutes(dag_id) % 30)
                run = create_run(dag, logical, start, session)
                end, rendered = start, []
                for ti in run.get_task_instances(session=session):
                    length = timedelta(minutes=minutes(dag_id, ti.task_id))
                    ti.state = TaskInstanceState.SUCCESS
                    ti.start_date, ti.end_date, ti.duration = start, start + length, length.total_seconds()
                    ti.try_number = 1
                    end = max(end, start + length)
                    if (dag_id, ti.task_id) == RENDERED:
                        rendered.append(ti)
                # Rendered once the run's task instances are written: storing the rendering
                # first would lose their state and times on the latest run.
                session.flush()
                for ti in rendered:
                    store_rendering(ti, run, dag, bag.dags[dag_id].get_task(ti.task_id), session)
                run.end_date = end
                runs += 1
        session.flush()
        session.query(DagModel).filter(DagModel.dag_id == PAUSED).update({DagModel.is_paused: True})
        # The scheduler (Airflow 3: the DAG processor) retires a DAG whose file is gone.
        retired = {DagModel.is_active: False} if airflow_major() == 2 else {DagModel.is_stale: True}
        session.query(DagModel).filter(DagModel.dag_id == RETIRED).update(retired)
        # Every other DAG is unpaused, as in a running monolith.
        session.query(DagModel).filter(DagModel.dag_id != PAUSED).update({DagModel.is_paused: False})
        task_instances = session.query(TaskInstance).count()
    return {
        "airflow": airflow.__version__, "dags": len(bag.dags) + 1, "dag_runs": runs, "task_instances": task_instances,
        "paused": PAUSED, "never_run": NEVER_RUN, "retired": RETIRED, "variables": VARIABLES, **left_out,
    }


# What differs between the majors: how DAGs reach the database, how a run is made, how a
# rendering is stored. Airflow 3 writes DAGs per bundle, and its runs carry a dag_version,
# logical_date and run_after.

def sync_dags(dags_folder: Path, retired_folder: Path) -> tuple:
    """The DagBag of DAGS_FOLDER, written to the database with the retired DAG; and what was left out."""
    from airflow.models import DagBag

    if airflow_major() == 2:
        bag = DagBag(dag_folder=str(dags_folder), include_examples=False)
        bag.sync_to_db()
        DagBag(dag_folder=str(retired_folder), include_examples=False).sync_to_db()
        return bag, {"import_errors": sorted(bag.import_errors)}
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.models.dagbag import sync_bag_to_db

    removed = unloadable(dags_folder)
    for path in removed:
        path.unlink()
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(dags_folder), include_examples=False, bundle_path=dags_folder)
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, BUNDLE, None)
    sync_bag_to_db(DagBag(dag_folder=str(retired_folder), include_examples=False, bundle_path=retired_folder), BUNDLE, None)
    return bag, {"not_loaded": sorted(str(path.relative_to(dags_folder)) for path in removed)}


def unloadable(dags_folder: Path) -> list[Path]:
    """The files under DAGS_FOLDER that Airflow 3 fails to import, or whose DAGs it fails to serialize."""
    from airflow.models import DagBag
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    bag = DagBag(dag_folder=str(dags_folder), include_examples=False, bundle_path=dags_folder)
    failed = {Path(path) for path in bag.import_errors}
    for dag in bag.dags.values():
        try:
            LazyDeserializedDAG.from_dag(dag)
        except Exception:  # noqa: BLE001 - any failure to serialize keeps the DAG out of the database
            failed.add(Path(dag.fileloc))
    return sorted(path if path.is_absolute() else dags_folder / path for path in failed)


def runnable(bag, dag_id: str, session):
    """The DAG that creates runs: Airflow 3 runs the serialized version stored in the database."""
    if airflow_major() == 2:
        return bag.dags[dag_id]
    from airflow.models.dagbag import DBDagBag

    return DBDagBag().get_latest_version_of_dag(dag_id, session=session)


def create_run(dag, logical: datetime, start: datetime, session):
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    common = dict(
        run_id=f"scheduled__{logical.isoformat()}", run_type=DagRunType.SCHEDULED, data_interval=(logical, logical + timedelta(days=1)),
        state=DagRunState.SUCCESS, start_date=start, session=session,
    )
    if airflow_major() == 2:
        return dag.create_dagrun(execution_date=logical, **common)
    from airflow.utils.types import DagRunTriggeredByType

    return dag.create_dagrun(logical_date=logical, run_after=logical, triggered_by=DagRunTriggeredByType.TIMETABLE, **common)


def store_rendering(ti, run, dag, task, session) -> None:
    """TASK's templates rendered as `airflow tasks render` does, stored in rendered_task_instance_fields:
    Airflow 2 as the task runner does; Airflow 3 as the execution API's PUT /task-instances/{id}/rtif
    does with what a worker sends (TaskInstance.update_rtif)."""
    if airflow_major() == 2:
        from airflow.models.renderedtifields import RenderedTaskInstanceFields

        ti.task, ti.dag_run = dag.get_task(ti.task_id), run
        session.merge(RenderedTaskInstanceFields(ti, render_templates=True))
        return
    from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields
    from airflow.utils.task_instance_session import set_current_task_instance_session

    ti.task = dag.get_task(ti.task_id)
    with set_current_task_instance_session(session=session):
        context = ti.get_template_context(session=session)
        context["task"] = context["ti"].task = task
        task.render_template_fields(context)
    ti.update_rtif(_serialize_rendered_fields(task), session=session)
    ti.task = dag.get_task(ti.task_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("database", type=Path, nargs="?", help="a new sqlite file")
    target.add_argument("--url", help="an empty database, as a SQLAlchemy URL Airflow can use")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2] / "fixtures" / "skyflow")
    parser.add_argument("--populate", nargs=2, type=Path, help=argparse.SUPPRESS)  # internal: the second stage
    args = parser.parse_args()
    if args.populate:
        print(json.dumps(populate(*args.populate)))
        return 0
    if not (args.database or args.url):
        parser.error("give a sqlite file or --url")
    if args.url:
        print(build(args.url, args.repo.resolve()))
        return 0
    database = args.database.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_suffix(".partial")  # a failed build leaves no file the tests would read
    partial.unlink(missing_ok=True)
    report = build(f"sqlite:///{partial}", args.repo.resolve())
    os.replace(partial, database)
    print(report)
    return 0


def build(url: str, repo: Path) -> str:
    """`airflow db migrate` on URL, then populate() in a second process (Airflow reads its
    settings at import); returns populate()'s report."""
    with tempfile.TemporaryDirectory(prefix="runtime-db-") as scratch:
        home, retired = Path(scratch) / "home", Path(scratch) / "retired"
        home.mkdir()
        retired.mkdir()
        (retired / "crm_legacy_export.py").write_text(RETIRED_FILE)
        dags = repo / "dags"
        if airflow_major() >= 3:  # a copy: the files Airflow 3 fails on are removed from it
            dags = Path(scratch) / "dags"
            shutil.copytree(repo / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
        env = environment(home, repo, url, dags)
        airflow = Path(sys.executable).parent / "airflow"
        migrated = subprocess.run([str(airflow), "db", "migrate"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if migrated.returncode:
            sys.stderr.write(migrated.stderr)
            migrated.check_returncode()
        done = subprocess.run(
            [sys.executable, __file__, "--populate", str(dags), str(retired)], env=env, check=True, stdout=subprocess.PIPE, text=True,
        )
        (retired / "crm_legacy_export.py").unlink()  # the file is gone; the database keeps the DAG
    return done.stdout.strip().splitlines()[-1]


@functools.cache
def airflow_major() -> int:
    from importlib.metadata import version

    return int(version("apache-airflow").split(".", 1)[0])


if __name__ == "__main__":
    sys.exit(main())
