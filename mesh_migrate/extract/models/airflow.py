"""Airflow helpers that link tasks, and so attach them to a DAG."""

from __future__ import annotations

from typing import Any

from ..expressions import attach_together
from . import Call, model


@model(
    "airflow.models.baseoperator.chain", "airflow.models.chain", "airflow.utils.helpers.chain", "airflow.sdk.chain",
    "airflow.sdk.bases.operator.chain", "airflow.models.baseoperator.cross_downstream", "airflow.sdk.cross_downstream",
    "airflow.models.baseoperator.chain_linear", "airflow.sdk.chain_linear",
)
def chain(call: Call) -> Any:
    attach_together(list(call.args))
    return None


VALID = [
    ("d = DAG('d')\nt = EmptyOperator(task_id='t')\nchain(EmptyOperator(task_id='s', dag=d), t)\nresult = t.dag.dag_id", "d"),
]
