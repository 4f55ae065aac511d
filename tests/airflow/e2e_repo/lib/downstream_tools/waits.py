"""Team downstream's shared wait: one place for the team's sensor defaults."""

from __future__ import annotations

from typing import Any

from airflow.sensors.external_task import ExternalTaskSensor


def wait_for_upstream(task_id: str, dag_id: str, **kwargs: Any) -> ExternalTaskSensor:
    kwargs.setdefault("poke_interval", 60)
    kwargs.setdefault("mode", "reschedule")
    return ExternalTaskSensor(task_id=task_id, external_dag_id=dag_id, **kwargs)
