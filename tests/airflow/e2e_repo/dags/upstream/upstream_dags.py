"""Team upstream's DAGs, which team downstream waits on and triggers (Airflow 2.10 and 3.1).

The end-to-end test's upstream servers load this file. No scheduler runs them: the test
creates their runs and sets task states over REST.
"""

from __future__ import annotations

import datetime

try:  # Airflow 3
    from airflow.sdk import DAG, Asset as Dataset, TaskGroup
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.datasets import Dataset
    from airflow.utils.task_group import TaskGroup
try:
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

with DAG("up_tasks", schedule=None, start_date=START, catchup=False):
    extract = EmptyOperator(task_id="extract")
    publish = EmptyOperator(task_id="publish")
    with TaskGroup("load") as load:
        EmptyOperator(task_id="rows") >> EmptyOperator(task_id="index")
    with TaskGroup("flat", prefix_group_id=False) as flat:
        EmptyOperator(task_id="flat_a") >> EmptyOperator(task_id="flat_b")
    fan = BashOperator.partial(task_id="fan").expand(bash_command=["echo 1", "echo 2", "echo 3"])
    extract >> load >> flat >> fan >> publish

with DAG("up_wide", schedule=None, start_date=START, catchup=False):
    with TaskGroup("parts") as parts:
        for number in range(150):
            EmptyOperator(task_id=f"part_{number:03d}")
    parts >> EmptyOperator(task_id="publish")

with DAG("up_target", schedule=None, start_date=START, catchup=False, params={"region": "eu"}):
    EmptyOperator(task_id="run")

with DAG("up_consumer", schedule=[Dataset("s3://lake/e2e_bookings")], start_date=START, catchup=False):
    EmptyOperator(task_id="consume")

with DAG("up_orders", schedule=None, start_date=START, catchup=False):
    EmptyOperator(task_id="export", outlets=[Dataset("s3://lake/e2e_orders")])

# Nobody else's code reaches it: another team's role must not see it.
with DAG("up_private", schedule=None, start_date=START, catchup=False):
    EmptyOperator(task_id="work")

# Deleted from the servers once they are up: a DAG the code names that its instance no longer has.
with DAG("up_missing", schedule=None, start_date=START, catchup=False):
    EmptyOperator(task_id="x")
