"""Team downstream's reports: they wait on team upstream's DAGs and trigger them, the ways
Airflow code does it (directly, through a shared helper, functools.partial, a subclass, a
loop over targets of both teams), and produce a dataset team upstream consumes.

Each task is one end-to-end case; tests/airflow/e2e_cases.py runs them by task id after
mesh-migrate's codemod has rewritten this file.
"""

from __future__ import annotations

import datetime
import functools

try:  # Airflow 3
    from airflow.sdk import DAG, Asset as Dataset
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.datasets import Dataset
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow.operators.empty import EmptyOperator

from airflow.operators import trigger_dagrun
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sensors.external_task import ExternalTaskSensor
from downstream_tools.waits import wait_for_upstream

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
WIDE = [f"parts.part_{number:03d}" for number in range(150)] + ["publish"]

on_up_tasks = functools.partial(ExternalTaskSensor, external_dag_id="up_tasks", failed_states=["failed"])


class TargetTrigger(TriggerDagRunOperator):
    """The team's trigger of up_target, in its own colour."""

    ui_color = "#f0e4ff"


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
    ExternalTaskSensor(task_id="wait_soft", external_dag_id="up_tasks", external_task_id="publish", failed_states=["failed"], soft_fail=True)
    ExternalTaskSensor(
        task_id="wait_or_skip", external_dag_id="up_tasks", external_task_id="publish", allowed_states=["success"], skipped_states=["skipped"]
    )
    ExternalTaskSensor(task_id="wait_flat_group", external_dag_id="up_tasks", external_task_group_id="flat")
    ExternalTaskSensor(task_id="wait_no_group", external_dag_id="up_tasks", external_task_group_id="not_yet")

    on_up_tasks(task_id="wait_or_fail", external_task_id="publish")
    on_up_tasks(task_id="wait_load_group", external_task_group_id="load")
    on_up_tasks(task_id="wait_mapped", external_task_id="fan")

    wait_for_upstream("wait_dag", "up_tasks", failed_states=["failed"])
    wait_for_upstream("wait_wide_group", "up_wide", external_task_group_id="parts", failed_states=["failed"])
    wait_for_upstream("wait_wide_tasks", "up_wide", external_task_ids=WIDE)
    wait_for_upstream("wait_missing_dag", "up_missing", external_task_id="x")
    wait_for_upstream("check_missing_dag", "up_missing", external_task_id="x", check_existence=True)
    wait_for_upstream("check_missing_task", "up_tasks", external_task_id="nope", check_existence=True)

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

    TargetTrigger(task_id="trigger_retried", trigger_dag_id="up_target", wait_for_completion=True, poke_interval=1)
    TargetTrigger(task_id="trigger_reset", trigger_dag_id="up_target", logical_date="{{ ds }}", reset_dag_run=True)
    TargetTrigger(task_id="trigger_skip_existing", trigger_dag_id="up_target", logical_date="{{ ds }}", skip_when_already_exists=True)

    for target in ("up_target", "down_sink"):  # one DAG of team upstream, one of this team
        trigger_dagrun.TriggerDagRunOperator(task_id=f"fan_out_{target}", trigger_dag_id=target, logical_date="{{ ds }}", conf={"from": "down"})

    EmptyOperator(task_id="produce", outlets=[Dataset("s3://lake/e2e_bookings")])

with DAG("down_sink", schedule=None, start_date=START, catchup=False):
    EmptyOperator(task_id="land")

# Scheduled on team upstream's dataset: after the move, team upstream posts the events here.
with DAG("down_orders", schedule=[Dataset("s3://lake/e2e_orders")], start_date=START, catchup=False):
    EmptyOperator(task_id="report")
