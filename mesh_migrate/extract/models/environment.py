"""Environment variables and Airflow Variables read at parse time.

Their values differ by deployment, so they are unknown unless mesh.yaml pins the
deployment analyzed (`environment.variables`, `environment.airflow_variables`); the
reason says which name to pin.
"""

from __future__ import annotations

import json
from typing import Any

from ..values import MISSING, Unknown
from . import Call, model

_VARIABLE_GETTERS = (
    "airflow.models.Variable.get", "airflow.models.variable.Variable.get", "airflow.sdk.Variable.get",
    "airflow.sdk.definitions.variable.Variable.get",
)


def environment_variable(call: Call, name: Any) -> Any:
    if not isinstance(name, str):
        return name if isinstance(name, Unknown) else call.unknown("environment variable name is not static")
    pinned = call.interp.rules.environment.get("variables", {}).get(name, MISSING)
    if pinned is not MISSING:
        return pinned
    return call.unknown(f"read from environment variable {name} at parse time (pin it under environment.variables in mesh.yaml)")


@model("os.environ.get", "os.getenv")
def environ_get(call: Call) -> Any:
    return environment_variable(call, call.arg(0, "key"))


@model(*_VARIABLE_GETTERS)
def variable_get(call: Call) -> Any:
    key = call.arg(0, "key")
    if not isinstance(key, str):
        return key if isinstance(key, Unknown) else call.unknown("Airflow Variable name is not static")
    pinned = call.interp.rules.environment.get("airflow_variables", {}).get(key, MISSING)
    if pinned is MISSING:
        return call.unknown(f"read from Airflow Variable {key} at parse time (pin it under environment.airflow_variables in mesh.yaml)")
    if call.kwargs.get("deserialize_json") and isinstance(pinned, str):
        try:
            return json.loads(pinned)
        except ValueError:
            return call.unknown(f"Airflow Variable {key} is pinned to text that is not JSON")
    return pinned


VALID: list[tuple[str, Any]] = []  # pins come from mesh.yaml: tested through the CLI
