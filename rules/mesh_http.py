"""Waiting on and triggering DAGs of another Airflow instance through its REST API.

Written into the repository by `mesh-migrate codemod`, which rewrites cross-team
ExternalTaskSensor and TriggerDagRunOperator calls into HttpSensor / HttpOperator calls
that use these helpers. One copy per repository: edit it here, not in the DAG files.

The response checks reproduce the sensor's semantics: success when every expected run or
task instance is in an allowed state, a hard failure (no retry, no waiting for the timeout)
when one is in a failed state, a skip when one is in a skipped state, and otherwise keep
poking.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable

from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from airflow.providers.http.hooks.http import HttpHook

try:
    from airflow.providers.http.operators.http import HttpOperator
except ImportError:  # providers-http before 4.5 only has the older name
    from airflow.providers.http.operators.http import SimpleHttpOperator as HttpOperator

ResponseCheck = Callable[..., bool]


def _verdict(states: list[str], allowed: Iterable[str], failed: Iterable[str], skipped: Iterable[str], what: str) -> bool:
    failed, skipped, allowed = set(failed), set(skipped), set(allowed)
    if states and set(states) & failed:
        raise AirflowFailException(f"{what} is in a failed state: {sorted(set(states) & failed)}")
    if states and set(states) & skipped:
        raise AirflowSkipException(f"{what} is in a skipped state: {sorted(set(states) & skipped)}")
    return bool(states) and all(state in allowed for state in states)


def dag_run_state(
    allowed_states: Iterable[str] = ("success",),
    failed_states: Iterable[str] = (),
    skipped_states: Iterable[str] = (),
) -> ResponseCheck:
    """Check a `GET .../dags/{dag_id}/dagRuns?..._gte=X&..._lte=X` response."""

    def check(response: Any, **_: Any) -> bool:
        runs = response.json().get("dag_runs", [])
        return _verdict([run["state"] for run in runs], allowed_states, failed_states, skipped_states, "upstream DAG run")

    return check


def task_instance_states(
    task_ids: Iterable[str] | None = None,
    task_group_id: str | None = None,
    allowed_states: Iterable[str] = ("success",),
    failed_states: Iterable[str] = (),
    skipped_states: Iterable[str] = (),
) -> ResponseCheck:
    """Check a `GET .../dags/{dag_id}/dagRuns/~/taskInstances?..._gte=X&..._lte=X` response.

    Every listed task (or every task of the group) must have an instance, mapped tasks
    included; until then the sensor keeps poking.
    """
    wanted = set(task_ids or ())

    def check(response: Any, **_: Any) -> bool:
        instances = response.json().get("task_instances", [])
        if task_group_id:
            instances = [ti for ti in instances if ti["task_id"].startswith(f"{task_group_id}.")]
        else:
            instances = [ti for ti in instances if ti["task_id"] in wanted]
            if {ti["task_id"] for ti in instances} != wanted:
                return False
        return _verdict([ti["state"] for ti in instances], allowed_states, failed_states, skipped_states, "upstream task")

    return check


def dag_run_body(conf: Any = None, api_version: int = 2, dag_run_id: str | None = None, logical_date: Any = None) -> str:
    """The JSON body of `POST .../dags/{dag_id}/dagRuns` (a string, so Jinja in it renders)."""
    body: dict[str, Any] = {"conf": conf or {}}
    if logical_date is not None or api_version >= 3:
        body["logical_date"] = logical_date  # a required key in /api/v2; None lets the instance pick
    if dag_run_id:
        body["dag_run_id"] = dag_run_id
    return json.dumps(body, default=str)


class TriggerRemoteDagRun(HttpOperator):
    """POST a DAG run to another instance and, like TriggerDagRunOperator's
    wait_for_completion, block until that run reaches an allowed or a failed state."""

    def __init__(
        self,
        *,
        run_endpoint: str,
        wait_for_completion: bool = True,
        poke_interval: float = 60,
        allowed_states: Iterable[str] = ("success",),
        failed_states: Iterable[str] = ("failed",),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_endpoint = run_endpoint
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = list(allowed_states)
        self.failed_states = list(failed_states)

    template_fields = (*HttpOperator.template_fields, "run_endpoint")

    def execute(self, context: Any) -> Any:
        result = super().execute(context)
        if not self.wait_for_completion:
            return result
        hook = HttpHook(method="GET", http_conn_id=self.http_conn_id)
        while True:
            time.sleep(self.poke_interval)
            state = hook.run(self.run_endpoint).json().get("state")
            self.log.info("Remote DAG run %s is %s", self.run_endpoint, state)
            if state in self.failed_states:
                raise AirflowException(f"remote DAG run {self.run_endpoint} ended {state}")
            if state in self.allowed_states:
                return result
