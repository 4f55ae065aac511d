"""Team reports only triggers team upstream's DAG: its role there may trigger, not read task instances."""

from __future__ import annotations

import datetime

from airflow import DAG
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

with DAG("reports_daily", schedule="@daily", start_date=datetime.datetime(2024, 1, 1), catchup=False):
    TriggerDagRunOperator(task_id="refresh_target", trigger_dag_id="up_target")
