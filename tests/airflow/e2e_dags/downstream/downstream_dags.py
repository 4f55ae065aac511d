"""The downstream team's DAG as the codemod leaves it: Airflow's sensor and trigger imported from mesh_http.

The upstream DAGs (up_*) run on another instance (mesh_registry.json beside this file). Each
task here is one end-to-end case; tests/airflow/e2e_cases.py runs them by task id.
"""

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

from mesh_http import ExternalTaskSensor, TriggerDagRunOperator, publish_dataset_events

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
WIDE = [f"parts.part_{number:03d}" for number in range(150)] + ["publish"]

with DAG("down", schedule="@daily", start_date=START, catchup=False, params={"note": 'say "hi"\nbye'}) as dag:
    ExternalTaskSensor(task_id="wait_publish", external_dag_id="up_tasks", external_task_id="publish", timeout=600, poke_interval=1)
    ExternalTaskSensor(
        task_id="wait_publish_yesterday", external_dag_id="up_tasks", external_task_id="publish", execution_delta=datetime.timedelta(days=1)
    )
    ExternalTaskSensor(
        task_id="wait_publish_fn", external_dag_id="up_tasks", external_task_id="publish", execution_date_fn=lambda dt: [dt - datetime.timedelta(days=1), dt]
    )
    ExternalTaskSensor(
        task_id="wait_deferred", external_dag_id="up_tasks", external_task_id="publish", deferrable=True, poll_interval=7, timeout=600
    )
    ExternalTaskSensor(task_id="wait_or_fail", external_dag_id="up_tasks", external_task_id="publish", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_soft", external_dag_id="up_tasks", external_task_id="publish", failed_states=["failed"], soft_fail=True)
    ExternalTaskSensor(
        task_id="wait_or_skip", external_dag_id="up_tasks", external_task_id="publish", allowed_states=["success"], skipped_states=["skipped"]
    )
    ExternalTaskSensor(task_id="wait_load_group", external_dag_id="up_tasks", external_task_group_id="load", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_flat_group", external_dag_id="up_tasks", external_task_group_id="flat")
    ExternalTaskSensor(task_id="wait_no_group", external_dag_id="up_tasks", external_task_group_id="not_yet")
    ExternalTaskSensor(task_id="wait_mapped", external_dag_id="up_tasks", external_task_id="fan", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_dag", external_dag_id="up_tasks", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_wide_group", external_dag_id="up_wide", external_task_group_id="parts", failed_states=["failed"])
    ExternalTaskSensor(task_id="wait_wide_tasks", external_dag_id="up_wide", external_task_ids=WIDE)
    ExternalTaskSensor(task_id="wait_missing_dag", external_dag_id="up_missing", external_task_id="x")
    ExternalTaskSensor(task_id="check_missing_dag", external_dag_id="up_missing", external_task_id="x", check_existence=True)
    ExternalTaskSensor(task_id="check_missing_task", external_dag_id="up_tasks", external_task_id="nope", check_existence=True)
    ExternalTaskSensor(task_id="wait_wrong_version", external_dag_id="up_tasks", external_task_id="publish", http_conn_id="airflow_wrong_version")
    ExternalTaskSensor(task_id="wait_bad_password", external_dag_id="up_tasks", external_task_id="publish", http_conn_id="airflow_bad_password")
    ExternalTaskSensor(task_id="wait_session_only", external_dag_id="up_tasks", external_task_id="publish", http_conn_id="airflow_session_only")
    ExternalTaskSensor(task_id="wait_wrong_url", external_dag_id="up_tasks", external_task_id="publish", http_conn_id="airflow_wrong_url")
    TriggerDagRunOperator(
        task_id="trigger_ds",
        trigger_dag_id="up_target",
        logical_date="{{ ds }}",
        conf={"rows": 3, "ratio": 0.5, "flag": True, "note": "{{ params.note }}", "day": "{{ ds }}", "nested": {"ids": [1, 2]}},
    )
    TriggerDagRunOperator(task_id="trigger_logical_date", trigger_dag_id="up_target", logical_date="{{ logical_date }}", conf={"source": "{{ dag.dag_id }}"})
    TriggerDagRunOperator(
        task_id="trigger_and_wait", trigger_dag_id="up_target", logical_date="{{ ts }}", wait_for_completion=True, poke_interval=1
    )
    TriggerDagRunOperator(
        task_id="trigger_and_defer", trigger_dag_id="up_target", logical_date="{{ ts }}", wait_for_completion=True, deferrable=True, poke_interval=5
    )
    TriggerDagRunOperator(task_id="trigger_no_date", trigger_dag_id="up_target", logical_date=None)
    TriggerDagRunOperator(task_id="trigger_retried", trigger_dag_id="up_target", wait_for_completion=True, poke_interval=1)
    TriggerDagRunOperator(task_id="trigger_reset", trigger_dag_id="up_target", logical_date="{{ ds }}", reset_dag_run=True)
    TriggerDagRunOperator(task_id="trigger_skip_existing", trigger_dag_id="up_target", logical_date="{{ ds }}", skip_when_already_exists=True)
    EmptyOperator(task_id="produce", outlets=[Dataset("s3://lake/e2e_bookings")], post_execute=publish_dataset_events())

# Run whole by dag.test(): deferral through a real (inline) triggerer, a real task context.
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
    produce = EmptyOperator(task_id="produce", outlets=[Dataset("s3://lake/e2e_bookings")], post_execute=publish_dataset_events())
    # a DAG of this team: Airflow's own sensor, reading this instance's database
    own = ExternalTaskSensor(task_id="wait_own", external_dag_id="down_run", external_task_id="produce", poke_interval=1, timeout=60)
    wait >> kick >> produce >> own
