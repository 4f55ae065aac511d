"""Waits for its own previous run: allowed, and not a cycle."""
from datetime import timedelta

from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("faults_self_waiting", schedule="@daily") as dag:
    ExternalTaskSensor(
        task_id="wait_yesterday",
        external_dag_id="faults_self_waiting",
        execution_delta=timedelta(days=1),
    )
