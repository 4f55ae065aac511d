"""Airflow helpers that link tasks, and so attach them to a DAG."""

from __future__ import annotations

from typing import Any

from ..expressions import attach_together
from ..values import Instance
from . import Call, model


@model(
    "airflow.models.baseoperator.chain", "airflow.models.chain", "airflow.utils.helpers.chain", "airflow.sdk.chain",
    "airflow.sdk.bases.operator.chain", "airflow.models.baseoperator.cross_downstream", "airflow.sdk.cross_downstream",
    "airflow.models.baseoperator.chain_linear", "airflow.sdk.chain_linear",
)
def chain(call: Call) -> Any:
    attach_together(list(call.args))
    return None


@model("airflow.utils.dag_parsing_context.get_parsing_context", "airflow.sdk.get_parsing_context", "airflow.sdk.definitions.context.get_parsing_context")
def get_parsing_context(call: Call) -> Any:
    """What a full parse of the file sees (the DAG processor's): no DAG or task singled out."""
    return Instance(None, {"dag_id": None, "task_id": None})


VALID = [
    ("from airflow.sdk import get_parsing_context\nresult = get_parsing_context().dag_id or 'all'", "all"),
    ("d = DAG('d')\nt = EmptyOperator(task_id='t')\nchain(EmptyOperator(task_id='s', dag=d), t)\nresult = t.dag.dag_id", "d"),
]
