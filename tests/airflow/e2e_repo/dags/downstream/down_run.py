"""A whole run of team downstream: wait on team upstream, trigger it and wait deferred,
produce the dataset team upstream consumes, then wait on a task of this team's own DAG."""

from __future__ import annotations

import datetime

try:  # Airflow 3
    from airflow.sdk import DAG, Asset as Dataset
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.datasets import Dataset
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow.operators.empty import EmptyOperator

from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sensors.external_task import ExternalTaskSensor

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

with DAG("down_run", schedule="@daily", start_date=START, catchup=False) as dag_run:
    wait = ExternalTaskSensor(
        task_id="wait_deferred", external_dag_id="up_tasks", external_task_id="publish", deferrable=True, poll_interval=2, timeout=120
    )
    kick = TriggerDagRunOperator(
        task_id="trigger_and_defer",
        trigger_dag_id="up_target",
        logical_date="{{ ds }}",
        conf={"day": "{{ ds }}", "rows": 3},
        wait_for_completion=True,
        deferrable=True,
        poke_interval=2,
    )
    produce = EmptyOperator(task_id="produce", outlets=[Dataset("s3://lake/e2e_bookings")])
    own = ExternalTaskSensor(task_id="wait_own", external_dag_id="down_run", external_task_id="produce", poke_interval=1, timeout=60)
    wait >> kick >> produce >> own
